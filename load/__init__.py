"""The SIP load simulator (`acd load`): surge curves replayed as real SIP calls.

SIPp places the callers (`load.scenarios`, `load.sipp`), light SIP user agents on
asyncio play the agents' phones and the vendors' floors (`load.phones`), and the
run (`load.run`) steers both from the shared people model and measures what the
callers lived against what the replay predicts.
"""
