"""The Slack adapter: Bolt for Python (async) over HTTP and Socket Mode, mounted on the `consultant serve` server.

mount.py wires it; handlers.py registers the Bolt listeners; consult.py runs a consultation turn; review.py is the
/schema-review flow; responder.py shows progress and delivers answers; render.py and mrkdwn.py turn Markdown into
Slack blocks within Slack's limits. docs/slack.md explains the setup and the follow-up policy.
"""
