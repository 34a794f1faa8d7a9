"""Extension points: how a lower floor lets the floors above react without importing them.

The lower app declares a hook in its own module and calls it; a higher app connects to it in
its AppConfig.ready():

    # apps/messaging/two_way.py (lower)
    sms_confirm = Hook("sms_confirm", "(*, patient, inbound) -> reply text or None")
    reply = sms_confirm.first(patient=patient, inbound=inbound) or DEFAULT_REPLY

    # apps/scheduling/apps.py (higher)
    def ready(self):
        two_way.sms_confirm.connect(sms_actions.sms_confirm_next_visit)

A hook is explicit (its name and contract live beside the code that calls it), ordered (in
the order connected) and synchronous, inside the caller's transaction. Use a Django signal
where any number of listeners only observe; use a Hook where the caller wants an answer."""


class Hook:
    def __init__(self, name, contract=""):
        self.name = name
        self.contract = contract
        self._receivers = []

    def connect(self, receiver):
        """Add receiver (idempotent: ready() may run twice in tests). Returns it, so it can
        decorate a function."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver):
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self):
        return tuple(self._receivers)

    def __bool__(self):
        return bool(self._receivers)

    def all(self, **kwargs):
        """Call every receiver; their answers in order."""
        return [receiver(**kwargs) for receiver in self._receivers]

    def first(self, **kwargs):
        """Call receivers in order until one answers something other than None; that answer
        (None when nobody answers or nobody is connected)."""
        for receiver in self._receivers:
            result = receiver(**kwargs)
            if result is not None:
                return result
        return None

    def __repr__(self):
        return f"<Hook {self.name}: {len(self._receivers)} receivers>"
