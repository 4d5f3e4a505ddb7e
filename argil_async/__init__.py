"""argil_async: the asyncio-first Python SDK for the Argil AI avatar video API.

Example:

```python
from argil_async import AsyncArgil, Moment

async with AsyncArgil() as client:               # reads ARGIL_API_KEY
    video = await client.videos.create(
        name="Hello", moments=[Moment(avatar_id=avatar_id, transcript="Hi there!")]
    )
    await client.videos.render(video.id)
    video = await client.videos.wait_until_done(video.id)
    print(video.video_url)
```

``Argil`` is the same client without ``await``; ``argil_async.testing.ArgilSimulator`` serves
the whole API locally for tests and demos.
"""

from ._client import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from ._client import AsyncArgil as AsyncArgil
from ._exports import rehome as _rehome
from ._observe import ResponseInfo as ResponseInfo
from ._options import RawResponse as RawResponse
from ._options import RequestOptions as RequestOptions
from ._options import with_raw_response as with_raw_response
from ._pagination import AsyncPaginator as AsyncPaginator
from ._pagination import Page as Page
from ._retry import RetryPolicy as RetryPolicy
from ._seam import Request as Request
from ._seam import Response as Response
from ._seam import Timeout as Timeout
from ._seam import Transport as Transport
from ._sync._runtime import Paginator as Paginator
from ._sync.client import Argil as Argil
from ._version import __version__ as __version__
from .errors import APIConnectionError as APIConnectionError
from .errors import APIStatusError as APIStatusError
from .errors import APITimeoutError as APITimeoutError
from .errors import ArgilError as ArgilError
from .errors import AuthenticationError as AuthenticationError
from .errors import BadRequestError as BadRequestError
from .errors import ConflictError as ConflictError
from .errors import GenerationFailedError as GenerationFailedError
from .errors import InternalServerError as InternalServerError
from .errors import InvalidRequestError as InvalidRequestError
from .errors import LocalStorageError as LocalStorageError
from .errors import NotFoundError as NotFoundError
from .errors import PermissionDeniedError as PermissionDeniedError
from .errors import RateLimitError as RateLimitError
from .errors import RedisError as RedisError
from .errors import RedisUnavailableError as RedisUnavailableError
from .errors import ResponseTooLargeError as ResponseTooLargeError
from .errors import ResponseValidationError as ResponseValidationError
from .errors import WaitTimeoutError as WaitTimeoutError
from .errors import WebhookError as WebhookError
from .errors import WebhookSignatureError as WebhookSignatureError
from .models import Asset as Asset
from .models import AutoBrolls as AutoBrolls
from .models import Avatar as Avatar
from .models import BackgroundMusic as BackgroundMusic
from .models import Broll as Broll
from .models import Moment as Moment
from .models import Subtitles as Subtitles
from .models import SubtitleStyle as SubtitleStyle
from .models import Video as Video
from .models import Voice as Voice
from .models import Webhook as Webhook
from .models import Zoom as Zoom

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Argil",
    "ArgilError",
    "Asset",
    "AsyncArgil",
    "AsyncPaginator",
    "AuthenticationError",
    "AutoBrolls",
    "Avatar",
    "BackgroundMusic",
    "BadRequestError",
    "Broll",
    "ConflictError",
    "GenerationFailedError",
    "InternalServerError",
    "InvalidRequestError",
    "LocalStorageError",
    "Moment",
    "NotFoundError",
    "Page",
    "Paginator",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RedisError",
    "RedisUnavailableError",
    "Request",
    "RequestOptions",
    "Response",
    "ResponseInfo",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "SubtitleStyle",
    "Subtitles",
    "Timeout",
    "Transport",
    "Video",
    "Voice",
    "WaitTimeoutError",
    "Webhook",
    "WebhookError",
    "WebhookSignatureError",
    "Zoom",
    "__version__",
    "with_raw_response",
]

_rehome(__name__, globals())
