// Runs once per QuickJS context, before any hook (loaded by sandbox.py). It captures the log bridge and hides it
// from the global object so that hooks cannot call it directly, and defines the driver that calls one hook with the
// Open Connectors variables. `getArray()` keeps hooks written for the old Java engine (`list.add`) working.
(function () {
  "use strict";
  // QuickJS refuses calls into Python while a time limit is set, so console output is buffered here
  // (bounded) and collected by the runner after each call, including calls that failed.
  const lines = [];
  let dropped = 0;
  const show = (v) => {
    if (typeof v === "string") return v;
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
  };
  const logger = (level) => (...args) => {
    if (lines.length < __MAX_LINES__) lines.push([level, args.map(show).join(" ").slice(0, __MAX_CHARS__)]);
    else dropped += 1;
  };
  globalThis.console = Object.freeze({
    log: logger("info"), info: logger("info"), debug: logger("debug"),
    warn: logger("warning"), error: logger("error"),
  });
  globalThis.getArray = function () {
    const list = [];
    Object.defineProperty(list, "add", { value(item) { this.push(item); return true; } });
    return list;
  };
  const drain = function () {
    const taken = JSON.stringify({ lines, dropped });
    lines.length = 0;
    dropped = 0;
    return taken;
  };
  const attach = (target, name, value, enumerable) =>
    Object.defineProperty(target, name, { value, enumerable, writable: true, configurable: true });
  const start = function (hook, input) {
    const request = JSON.parse(input);
    let events = request.body;
    if (events === null || events === undefined) events = {};
    if (typeof events === "object") {
      // On an array (a batched body) the extras are not enumerable, so `for..in` still sees only items.
      const enumerable = !Array.isArray(events);
      if (request.headers !== null) attach(events, "eventHeaders", request.headers, enumerable);
      if (request.eventId !== null) attach(events, "eventId", request.eventId, enumerable);
    }
    const state = { settled: false, value: undefined, failure: undefined };
    const done = (value) => { if (!state.settled) { state.settled = true; state.value = value; } };
    const returned = hook(events, request.configuration, done);
    if (!state.settled && returned !== undefined) {
      if (returned !== null && typeof returned.then === "function") {
        returned.then(
          (value) => { if (value !== undefined) done(value); },
          (error) => { if (!state.settled) { state.settled = true; state.failure = String(error); } },
        );
      } else {
        done(returned);
      }
    }
    return state;
  };
  const finish = function (state) {
    if (!state.settled) return null;
    if (state.failure !== undefined) return JSON.stringify({ failure: state.failure });
    return JSON.stringify({ value: state.value });
  };
  // A source with a stray `});` could close the wrapper; the compiled function's own text tells.
  const sourceOf = (f) => (typeof f === "function" ? Function.prototype.toString.call(f) : null);
  globalThis.__sourceOf = sourceOf;
  globalThis.__start = start;
  globalThis.__finish = finish;
  globalThis.__drain = drain;
})();
