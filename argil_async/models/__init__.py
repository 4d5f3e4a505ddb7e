"""The Argil API's objects (responses) and request pieces, as msgspec Structs.

Attributes are snake_case (``video.video_url``); the wire format stays camelCase:

```python
from argil_async.models import Moment, Subtitles

moments = [Moment(avatar_id=avatar.id, transcript="Hello!")]
```
"""

from .._exports import rehome as _rehome
from ._enums import AspectRatio as AspectRatio
from ._enums import AssetStatus as AssetStatus
from ._enums import AssetType as AssetType
from ._enums import AvatarModel as AvatarModel
from ._enums import AvatarOrientation as AvatarOrientation
from ._enums import AvatarStatus as AvatarStatus
from ._enums import BrollIntensity as BrollIntensity
from ._enums import BrollLayout as BrollLayout
from ._enums import BrollSource as BrollSource
from ._enums import MomentLayout as MomentLayout
from ._enums import SubtitleFormat as SubtitleFormat
from ._enums import SubtitlePosition as SubtitlePosition
from ._enums import SubtitleSize as SubtitleSize
from ._enums import UploadType as UploadType
from ._enums import VideoStatus as VideoStatus
from ._enums import Visibility as Visibility
from ._enums import VoiceGender as VoiceGender
from ._enums import VoiceLanguage as VoiceLanguage
from ._enums import WebhookEvent as WebhookEvent
from ._objects import Asset as Asset
from ._objects import Avatar as Avatar
from ._objects import Gesture as Gesture
from ._objects import MomentOut as MomentOut
from ._objects import SubtitleStyle as SubtitleStyle
from ._objects import Video as Video
from ._objects import VideoSubtitles as VideoSubtitles
from ._objects import Voice as Voice
from ._objects import Webhook as Webhook
from ._requests import AutoBrolls as AutoBrolls
from ._requests import BackgroundMusic as BackgroundMusic
from ._requests import Broll as Broll
from ._requests import Moment as Moment
from ._requests import Subtitles as Subtitles
from ._requests import VoiceSettings as VoiceSettings
from ._requests import Zoom as Zoom
from ._statuses import AVATAR_FAILED_STATUSES as AVATAR_FAILED_STATUSES
from ._statuses import VIDEO_FAILED_STATUSES as VIDEO_FAILED_STATUSES
from ._statuses import WEBHOOK_EVENTS as WEBHOOK_EVENTS

__all__ = [
    "AVATAR_FAILED_STATUSES",
    "VIDEO_FAILED_STATUSES",
    "WEBHOOK_EVENTS",
    "AspectRatio",
    "Asset",
    "AssetStatus",
    "AssetType",
    "AutoBrolls",
    "Avatar",
    "AvatarModel",
    "AvatarOrientation",
    "AvatarStatus",
    "BackgroundMusic",
    "Broll",
    "BrollIntensity",
    "BrollLayout",
    "BrollSource",
    "Gesture",
    "Moment",
    "MomentLayout",
    "MomentOut",
    "SubtitleFormat",
    "SubtitlePosition",
    "SubtitleSize",
    "SubtitleStyle",
    "Subtitles",
    "UploadType",
    "Video",
    "VideoStatus",
    "VideoSubtitles",
    "Visibility",
    "Voice",
    "VoiceGender",
    "VoiceLanguage",
    "VoiceSettings",
    "Webhook",
    "WebhookEvent",
    "Zoom",
]

_rehome(__name__, globals())
