"""The controller: start, stop, restart and wait on the gateway of one profile.

Every step it takes is an event in the profile's journal, appended before the step's
side effect (a stop request before any signal, an escalation step before the force).
"""
