"""The controller: start, stop, restart and wait on the gateway of one profile.

Every step it takes is an event in the profile's journal: the stop request before any
signal; each escalation step right after it is done, with the pids it reached (see
:mod:`.escalate`).
"""
