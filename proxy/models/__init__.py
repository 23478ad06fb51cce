"""``/v1/models``: one model per assistant."""
