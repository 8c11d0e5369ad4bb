from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_message import ErrorMessage
from ...models.face_detection_created import FaceDetectionCreated
from ...models.face_detection_request import FaceDetectionRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: FaceDetectionRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/face-detection",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorMessage | FaceDetectionCreated | None:
    if response.status_code == 200:
        response_200 = FaceDetectionCreated.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorMessage.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorMessage.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = ErrorMessage.from_dict(response.json())

        return response_402

    if response.status_code == 404:
        response_404 = ErrorMessage.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = ErrorMessage.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorMessage | FaceDetectionCreated]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: FaceDetectionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorMessage | FaceDetectionCreated]:
    """Face Detection

     Detect faces in an image or video.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Note: Face detection is free to use for the near future. Pricing may change in the future.

    Args:
        idempotency_key (str | Unset):
        body (FaceDetectionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | FaceDetectionCreated]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: FaceDetectionRequest,
    idempotency_key: str | Unset = UNSET,
) -> ErrorMessage | FaceDetectionCreated | None:
    """Face Detection

     Detect faces in an image or video.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Note: Face detection is free to use for the near future. Pricing may change in the future.

    Args:
        idempotency_key (str | Unset):
        body (FaceDetectionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | FaceDetectionCreated
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: FaceDetectionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorMessage | FaceDetectionCreated]:
    """Face Detection

     Detect faces in an image or video.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Note: Face detection is free to use for the near future. Pricing may change in the future.

    Args:
        idempotency_key (str | Unset):
        body (FaceDetectionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | FaceDetectionCreated]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: FaceDetectionRequest,
    idempotency_key: str | Unset = UNSET,
) -> ErrorMessage | FaceDetectionCreated | None:
    """Face Detection

     Detect faces in an image or video.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Note: Face detection is free to use for the near future. Pricing may change in the future.

    Args:
        idempotency_key (str | Unset):
        body (FaceDetectionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | FaceDetectionCreated
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
