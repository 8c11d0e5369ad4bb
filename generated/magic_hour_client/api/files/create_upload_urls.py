from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_message import ErrorMessage
from ...models.upload_urls import UploadUrls
from ...models.upload_urls_request import UploadUrlsRequest
from ...types import Response


def _get_kwargs(
    *,
    body: UploadUrlsRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/files/upload-urls",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorMessage | UploadUrls | None:
    if response.status_code == 200:
        response_200 = UploadUrls.from_dict(response.json())

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
) -> Response[ErrorMessage | UploadUrls]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: UploadUrlsRequest,
) -> Response[ErrorMessage | UploadUrls]:
    """ Generate asset upload urls

     Generates a list of pre-signed upload URLs for the assets required. This API is only necessary if
    you want to upload to Magic Hour's storage. Refer to the [Input Files
    Guide](https://docs.magichour.ai/integration/inputs-and-outputs) for more details.

    The response array will match the order of items in the request body.

    **Valid file extensions per asset type**:
    - video: mp4, m4v, mov, webm
    - audio: mp3, wav, aac, flac, webm, weba, m4a, opus, ogg, oga, aiff, amr
    - image: png, jpg, jpeg, jfif, heic, heif, webp, avif, jp2, tiff, tif, bmp
    - gif: gif, webp, webm

    > Note: `gif` is only supported for face swap API `video_file_path` field.

    Once you receive an upload URL, send a `PUT` request to upload the file directly.

    Example:

    ```
    curl -X PUT --data '@/path/to/file/video.mp4' \\
      https://videos.magichour.ai/api-assets/id/video.mp4?<auth params from the API response>
    ```

    Args:
        body (UploadUrlsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | UploadUrls]
     """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: UploadUrlsRequest,
) -> ErrorMessage | UploadUrls | None:
    """ Generate asset upload urls

     Generates a list of pre-signed upload URLs for the assets required. This API is only necessary if
    you want to upload to Magic Hour's storage. Refer to the [Input Files
    Guide](https://docs.magichour.ai/integration/inputs-and-outputs) for more details.

    The response array will match the order of items in the request body.

    **Valid file extensions per asset type**:
    - video: mp4, m4v, mov, webm
    - audio: mp3, wav, aac, flac, webm, weba, m4a, opus, ogg, oga, aiff, amr
    - image: png, jpg, jpeg, jfif, heic, heif, webp, avif, jp2, tiff, tif, bmp
    - gif: gif, webp, webm

    > Note: `gif` is only supported for face swap API `video_file_path` field.

    Once you receive an upload URL, send a `PUT` request to upload the file directly.

    Example:

    ```
    curl -X PUT --data '@/path/to/file/video.mp4' \\
      https://videos.magichour.ai/api-assets/id/video.mp4?<auth params from the API response>
    ```

    Args:
        body (UploadUrlsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | UploadUrls
     """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: UploadUrlsRequest,
) -> Response[ErrorMessage | UploadUrls]:
    """ Generate asset upload urls

     Generates a list of pre-signed upload URLs for the assets required. This API is only necessary if
    you want to upload to Magic Hour's storage. Refer to the [Input Files
    Guide](https://docs.magichour.ai/integration/inputs-and-outputs) for more details.

    The response array will match the order of items in the request body.

    **Valid file extensions per asset type**:
    - video: mp4, m4v, mov, webm
    - audio: mp3, wav, aac, flac, webm, weba, m4a, opus, ogg, oga, aiff, amr
    - image: png, jpg, jpeg, jfif, heic, heif, webp, avif, jp2, tiff, tif, bmp
    - gif: gif, webp, webm

    > Note: `gif` is only supported for face swap API `video_file_path` field.

    Once you receive an upload URL, send a `PUT` request to upload the file directly.

    Example:

    ```
    curl -X PUT --data '@/path/to/file/video.mp4' \\
      https://videos.magichour.ai/api-assets/id/video.mp4?<auth params from the API response>
    ```

    Args:
        body (UploadUrlsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | UploadUrls]
     """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: UploadUrlsRequest,
) -> ErrorMessage | UploadUrls | None:
    """ Generate asset upload urls

     Generates a list of pre-signed upload URLs for the assets required. This API is only necessary if
    you want to upload to Magic Hour's storage. Refer to the [Input Files
    Guide](https://docs.magichour.ai/integration/inputs-and-outputs) for more details.

    The response array will match the order of items in the request body.

    **Valid file extensions per asset type**:
    - video: mp4, m4v, mov, webm
    - audio: mp3, wav, aac, flac, webm, weba, m4a, opus, ogg, oga, aiff, amr
    - image: png, jpg, jpeg, jfif, heic, heif, webp, avif, jp2, tiff, tif, bmp
    - gif: gif, webp, webm

    > Note: `gif` is only supported for face swap API `video_file_path` field.

    Once you receive an upload URL, send a `PUT` request to upload the file directly.

    Example:

    ```
    curl -X PUT --data '@/path/to/file/video.mp4' \\
      https://videos.magichour.ai/api-assets/id/video.mp4?<auth params from the API response>
    ```

    Args:
        body (UploadUrlsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | UploadUrls
     """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
