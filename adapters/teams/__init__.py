"""Microsoft Teams adapter (Bot Framework).

Every `botbuilder`/`botframework` import of the project lives in this package: the Bot Framework SDK for
Python is archived (support ended 2025-12-31) and its successor is the Microsoft 365 Agents SDK
(`microsoft-agents-hosting-aiohttp`), so moving to it touches only these modules.
"""
