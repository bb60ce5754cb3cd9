"""The domain: resolution, rendering, PDFs, transports, batches. No UI."""
