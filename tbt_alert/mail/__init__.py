"""From a planned delivery to a sent message: view model, rendering, MIME, transports, sending."""
