"""Real-time UI events over websockets (Django Channels), and the notifications they feed.

Start here: `publish.publish_on_commit` is the one way to push; `schemas.ui_event_type` declares an
event type; `consumers.RealtimeConsumer` is the authenticated socket; `notifications` is the bell.
"""
