"""What endpoints share: auth, errors, request bodies, SSE and answering with a run."""
