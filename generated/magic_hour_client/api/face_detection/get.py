from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_message import ErrorMessage
from ...models.face_detection import FaceDetection
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    prefer: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(prefer, Unset):
        headers["Prefer"] = prefer

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/face-detection/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorMessage | FaceDetection | None:
    if response.status_code == 200:
        response_200 = FaceDetection.from_dict(response.json())

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
) -> Response[ErrorMessage | FaceDetection]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    prefer: str | Unset = UNSET,
) -> Response[ErrorMessage | FaceDetection]:
    """Get face detection details

     Get the details of a face detection task.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Args:
        id (str):  Example: uuid-example.
        prefer (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | FaceDetection]
    """

    kwargs = _get_kwargs(
        id=id,
        prefer=prefer,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    prefer: str | Unset = UNSET,
) -> ErrorMessage | FaceDetection | None:
    """Get face detection details

     Get the details of a face detection task.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Args:
        id (str):  Example: uuid-example.
        prefer (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | FaceDetection
    """

    return sync_detailed(
        id=id,
        client=client,
        prefer=prefer,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    prefer: str | Unset = UNSET,
) -> Response[ErrorMessage | FaceDetection]:
    """Get face detection details

     Get the details of a face detection task.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Args:
        id (str):  Example: uuid-example.
        prefer (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | FaceDetection]
    """

    kwargs = _get_kwargs(
        id=id,
        prefer=prefer,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    prefer: str | Unset = UNSET,
) -> ErrorMessage | FaceDetection | None:
    """Get face detection details

     Get the details of a face detection task.

    Use this API to get the list of faces detected in the image or video to use in the [face swap
    photo](https://docs.magichour.ai/api-reference/image-projects/face-swap-photo) or [face swap
    video](https://docs.magichour.ai/api-reference/video-projects/face-swap-video) API calls for multi-
    face swaps.

    Args:
        id (str):  Example: uuid-example.
        prefer (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | FaceDetection
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            prefer=prefer,
        )
    ).parsed
