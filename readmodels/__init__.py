"""The read side: projections into view tables, their runner, and the queries that read them.

Operators: a projection stuck FAILED on a poison event resumes once the cause is fixed (it is
retried with capped exponential backoff), or when told to pass over the event with
`await runner.skip_event(name, position)`; skips are stored and rebuilds honour them.
"""
