"""drctl's AWS sandbox: moto 5.2.5 plus the DR operations moto lacks.

Everything here is layered on moto's own models and routes at start-up (see
`drsandbox.patches.install`); moto's source is never copied. The server is one process:
moto's WSGI app wrapped by `drsandbox.app.SandboxApp`, which adds the control API under
`/_sandbox/`, fault injection and the request log.
"""
