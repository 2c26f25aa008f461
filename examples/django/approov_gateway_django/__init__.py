"""Django side of approov-gateway: request.approov from the forwarded facts.

Pure Python, no dependency beyond Django. See ApproovGatewayMiddleware.
"""
