// Errors of the wakebench JS client. Every one has a machine-readable `code`, as the rig's error
// responses do (README "MQTT API": `{"status":"error","code":"..","error":"..","data":{}}`).

/** The rig answered a request with an error, or the client refused bad input. */
export class WakebenchError extends Error {
  constructor(code, message, data = {}, verb = undefined) {
    super(message);
    this.name = 'WakebenchError';
    /** Machine-readable code (`unknown_task`, `invalid_args`, `9700005`, ...). */
    this.code = code;
    /** The response's `data` (details such as the field or the task id). */
    this.data = data;
    /** The verb that failed, when it came from a request. */
    this.verb = verb;
  }
}

/** No response (or no matching event) in time. */
export class RequestTimeoutError extends WakebenchError {
  constructor(message) {
    super('timeout', message);
    this.name = 'RequestTimeoutError';
  }
}

/** The client is not connected (or was closed) and could not send. */
export class NotConnectedError extends WakebenchError {
  constructor(message) {
    super('not_connected', message);
    this.name = 'NotConnectedError';
  }
}
