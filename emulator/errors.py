"""The one error the emulator raises for what it cannot do faithfully; the message says which and why."""


class EmulatorError(Exception):
    """A resource, input or invoke the emulator could not create, translate, answer or delete."""
