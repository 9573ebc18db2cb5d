"""Cost control: idle auto-stop, runtime caps, auto-delete, and the spend figures."""
