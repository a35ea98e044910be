"""The conversation: one turn runs understand -> diagnose -> teach -> ask over the thread's case.

engine.py drives a turn; facts.py extracts the case; classify.py and followup.py diagnose; compose.py and
prompt.py teach (offline and through the LLM); questions.py asks; history.py trims the thread for the LLM.
"""
