"""Video providers behind one interface (base.py): the built-in WebRTC provider (the default),
Twilio Video and the Zoom Video SDK. registry.chain() gives the configured ones in the order of
TELEHEALTH_VIDEO_PROVIDERS."""
