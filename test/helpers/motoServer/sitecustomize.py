# Loaded by moto_server's Python at start-up when this folder is on PYTHONPATH (see
# ../motoIsolation.ts). moto 5 runs each DynamoDB request on its own thread with no isolation:
# TransactWriteItems checks conditions and writes item by item, snapshots the table with
# deepcopy (which fails when another thread changes the table meanwhile: HTTP 500) and rolls
# back by restoring that snapshot (undoing other requests' committed writes). Real DynamoDB
# transactions are serializable. This runs moto's DynamoDB requests one at a time, which gives
# them that isolation; what each request does is moto's own code, unchanged.
import threading

try:
    from moto.dynamodb.responses import DynamoHandler

    _lock = threading.Lock()
    _call_action = DynamoHandler.call_action

    def _serialized_call_action(self):
        with _lock:
            return _call_action(self)

    DynamoHandler.call_action = _serialized_call_action
except Exception as error:  # moto missing or changed: start unpatched, and say so.
    import sys

    print(f"herald motoIsolation: DynamoDB requests NOT serialised: {error!r}", file=sys.stderr)
