# Loaded by moto_server's Python at start-up: startMoto (../motoServer.ts) puts this folder on
# PYTHONPATH. Three changes to how moto 5 runs requests, none to what each request does:
#
# 1. Isolation. moto runs each request on its own thread. Its TransactWriteItems checks
#    conditions and writes item by item, snapshots the table with deepcopy (which fails with
#    HTTP 500 when another thread changes the table meanwhile) and rolls back by restoring the
#    snapshot, undoing other requests' committed writes. Real DynamoDB transactions are
#    serializable, so DynamoDB requests here run one at a time.
# 2. One snapshot per table. TransactWriteItems deep-copies the whole table once per item of the
#    transaction, before writing any; the copies are identical, so the first is reused. A
#    transaction's cost then grows with the table once, not once per item (a 32-event publish on
#    a table of a few thousand items took seconds).
# 3. EventBridge. moto renders each event for each rule target through jsonpath expressions and
#    parses them anew every time (jsonpath_ng.ext.parse builds its parser tables per call: tens
#    of milliseconds each, seconds per PutEvents under load). Parsing is a pure function of the
#    expression's text, so its results are cached.
import sys
import threading

try:
    import moto.dynamodb.models as _models
    from moto.dynamodb.responses import DynamoHandler

    _lock = threading.Lock()
    _call_action = DynamoHandler.call_action

    def _serialized_call_action(self):
        with _lock:
            return _call_action(self)

    DynamoHandler.call_action = _serialized_call_action

    _copy = _models.copy

    class _TableCopiedOnce:
        """copy.deepcopy for one transaction: each Table copied once, anything else as usual."""

        def __init__(self):
            self._tables = {}

        def deepcopy(self, value, memo=None):
            if isinstance(value, _models.Table):
                key = id(value)
                if key not in self._tables:
                    self._tables[key] = _copy.deepcopy(value)
                return self._tables[key]
            return _copy.deepcopy(value, memo)

        def __getattr__(self, name):
            return getattr(_copy, name)

    _transact = _models.DynamoDBBackend.transact_write_items

    def _transact_copying_once(self, transact_items):
        # Safe to swap the module's `copy`: DynamoDB requests hold _lock (above).
        _models.copy = _TableCopiedOnce()
        try:
            return _transact(self, transact_items)
        finally:
            _models.copy = _copy

    _models.DynamoDBBackend.transact_write_items = _transact_copying_once
except Exception as error:  # moto missing or changed: start unpatched, and say so.
    print(f"herald motoServer: DynamoDB requests NOT serialised: {error!r}", file=sys.stderr)

try:
    import functools

    import jsonpath_ng.ext as _jsonpath_ext

    _jsonpath_ext.parse = functools.lru_cache(maxsize=4096)(_jsonpath_ext.parse)
except Exception as error:  # jsonpath_ng missing or changed: EventBridge is only slower.
    print(f"herald motoServer: jsonpath parsing not cached: {error!r}", file=sys.stderr)
