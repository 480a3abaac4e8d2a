"""Ready-made scenarios (issue 9): instantiate one as a draft, adjust, dry-run, publish.

Events the inbox and the bot will emit are named here as their contracts will read (docs/scenarios.md):
`bot.exchange.accepted` ({customer_id, order_id}), `conversations.conversation.resolved` and
`conversations.message.received` ({customer_id, conversation_id}).
"""

from __future__ import annotations

from typing import Any

EXCHANGE_ACCEPTED = "bot.exchange.accepted"

TEMPLATES: dict[str, dict[str, Any]] = {
    "defective_item": {
        "name": "Defective item: apology, exchange offer, bonus",
        "description": "On a return with reason defect: apologise, offer an exchange, and when the customer "
        "accepts within 48 h grant a bonus for the next purchase (once).",
        "definition": {
            "schema": 1,
            "trigger": {
                "event": "customers.order.returned",
                "when": [{"var": "event.reason", "op": "eq", "value": "defect"}],
            },
            "reentry": "always",
            "start": "apology",
            "steps": {
                "apology": {
                    "type": "action",
                    "action": "message.send",
                    "next": "offer",
                    "params": {
                        "class": "service",
                        "channel": "preferred",
                        "subject": "We are sorry",
                        "template": "{{ customer.display_name }}, we are sorry that your order "
                        "{{ event.order_id }} arrived defective.",
                    },
                },
                "offer": {
                    "type": "action",
                    "action": "message.send",
                    "next": "wait_exchange",
                    "params": {
                        "class": "service",
                        "channel": "preferred",
                        "subject": "An exchange",
                        "template": "We can exchange the item at no cost: reply yes to accept.",
                    },
                },
                "wait_exchange": {
                    "type": "wait",
                    "event": EXCHANGE_ACCEPTED,
                    "timeout": "48h",
                    "when": [{"var": "last_event.order_id", "op": "eq", "ref": "event.order_id"}],
                    "next": "bonus",
                    "on_timeout": "end",
                },
                "bonus": {
                    "type": "action",
                    "action": "loyalty.grant",
                    "save_as": "bonus",
                    "next": "bonus_note",
                    "params": {"points": 500, "reason": "defective item: bonus on the next purchase"},
                },
                "bonus_note": {
                    "type": "action",
                    "action": "message.send",
                    "next": "end",
                    "params": {
                        "class": "service",
                        "channel": "preferred",
                        "template": "Thank you: 500 bonus points wait for your next purchase.",
                    },
                },
            },
        },
    },
    "late_delivery": {
        "name": "Late delivery compensation",
        "description": "Shipped orders not delivered within 5 days get an apology and 200 points.",
        "definition": {
            "schema": 1,
            "trigger": {
                "event": "customers.order.status_changed",
                "when": [{"var": "event.to", "op": "eq", "value": "shipped"}],
            },
            "reentry": "always",
            "start": "wait_delivery",
            "steps": {
                "wait_delivery": {
                    "type": "wait",
                    "event": "customers.order.status_changed",
                    "timeout": "5d",
                    "when": [
                        {"var": "last_event.order_id", "op": "eq", "ref": "event.order_id"},
                        {"var": "last_event.to", "op": "eq", "value": "delivered"},
                    ],
                    "next": "end",
                    "on_timeout": "compensate",
                },
                "compensate": {
                    "type": "action",
                    "action": "loyalty.grant",
                    "next": "apology",
                    "params": {"points": 200, "reason": "late delivery"},
                },
                "apology": {
                    "type": "action",
                    "action": "message.send",
                    "next": "end",
                    "params": {
                        "class": "service",
                        "template": "Your order {{ event.order_id }} is late; "
                        "we added 200 points to your account.",
                    },
                },
            },
        },
    },
    "complaint_specialist": {
        "name": "Complaint: fast diagnosis and a specialist",
        "description": "A negative message goes to the specialists' team with high priority and a checklist.",
        "definition": {
            "schema": 1,
            "trigger": {"event": "conversations.message.received"},
            "start": "mood",
            "steps": {
                "mood": {
                    "type": "condition",
                    "cases": [
                        {
                            "name": "negative",
                            "when": [{"var": "conversation.sentiment", "op": "lt", "value": -0.3}],
                            "next": "assign",
                        }
                    ],
                    "else": "end",
                },
                "assign": {
                    "type": "action",
                    "action": "conversation.assign",
                    "params": {"team": "specialists"},
                    "next": "priority",
                },
                "priority": {
                    "type": "action",
                    "action": "conversation.prioritize",
                    "params": {"priority": "high"},
                    "next": "script",
                },
                "script": {
                    "type": "action",
                    "action": "script.suggest",
                    "next": "end",
                    "params": {
                        "steps": [
                            "Confirm the order and the problem",
                            "Offer a fix within your compensation limit",
                            {"text": "Apologise with 300 points", "points": 300},
                            {"text": "Compensate a serious failure with 1000 points", "points": 1000},
                        ],
                        "max_compensation_by_role": {"agent": 300, "supervisor": 1000},
                    },
                },
            },
        },
    },
    "post_resolution_followup": {
        "name": "Post-resolution follow-up",
        "description": "A day after a conversation is resolved, ask how it went; a reply within 3 days "
        "creates a task for the team.",
        "definition": {
            "schema": 1,
            "trigger": {"event": "conversations.conversation.resolved"},
            "start": "pause",
            "steps": {
                "pause": {"type": "wait", "duration": "24h", "next": "ask"},
                "ask": {
                    "type": "action",
                    "action": "message.send",
                    "next": "wait_reply",
                    "params": {
                        "class": "service",
                        "channel": "conversation",
                        "template": "Did we solve your problem? Reply to tell us.",
                    },
                },
                "wait_reply": {
                    "type": "wait",
                    "event": "conversations.message.received",
                    "timeout": "72h",
                    "next": "task",
                    "on_timeout": "end",
                },
                "task": {
                    "type": "action",
                    "action": "task.create",
                    "next": "end",
                    "params": {"title": "Read the follow-up reply", "team": "support", "due_in": "8h"},
                },
            },
        },
    },
    "win_back": {
        "name": "Win back a silent customer",
        "description": "No new order 60 days after a delivery: a marketing message with a coupon, in "
        "business hours.",
        "definition": {
            "schema": 1,
            "trigger": {
                "event": "customers.order.status_changed",
                "when": [{"var": "event.to", "op": "eq", "value": "delivered"}],
            },
            "reentry": "if_not_active",
            "start": "silence",
            "goals": [
                {
                    "name": "ordered again",
                    "event": "customers.order.status_changed",
                    "when": [{"var": "last_event.to", "op": "eq", "value": "paid"}],
                }
            ],
            "steps": {
                "silence": {"type": "wait", "duration": "60d", "next": "daytime"},
                "daytime": {
                    "type": "wait",
                    "until": {"hours": [10, 19], "weekdays": [0, 1, 2, 3, 4]},
                    "next": "coupon",
                },
                "coupon": {
                    "type": "action",
                    "action": "loyalty.grant",
                    "once": "customer",
                    "next": "invite",
                    "params": {"coupon_template": "winback", "reason": "win-back"},
                },
                "invite": {
                    "type": "action",
                    "action": "message.send",
                    "next": "end",
                    "params": {
                        "class": "marketing",
                        "template": "We miss you: a coupon waits in your account.",
                    },
                },
            },
        },
    },
}
