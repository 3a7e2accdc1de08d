// A small graphql-transport-ws client: reconnects, and re-subscribes with fresh variables, so a
// subscription that resumes with `afterPosition` misses nothing and repeats nothing.

import { authorization, problemsOf } from "./api.js";

export class LiveClient {
  constructor(url, onState) {
    this.url = url;
    this.onState = onState;
    this.operations = new Map(); // id -> {query, variables(), next, error}
    this.socket = null;
    this.acknowledged = false;
    this.retries = 0;
    this.nextId = 1;
    this.timer = null;
  }

  /** Start `query`; `variables()` is asked again on every (re)subscribe. Returns a stop(). */
  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.operations.set(id, { query, variables, ...sink });
    if (this.acknowledged) this.sendSubscribe(id);
    else this.connect();
    return () => {
      if (this.operations.delete(id) && this.acknowledged) {
        this.send({ id, type: "complete" });
      }
    };
  }

  restart() {
    this.retries = 0;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.socket) this.socket.close(1000, "restart");
    else this.connect();
  }

  connect() {
    if (this.socket || this.timer) return;
    this.onState("connecting", "Connecting…");
    const socket = new WebSocket(this.url, "graphql-transport-ws");
    this.socket = socket;
    socket.addEventListener("open", () => {
      const auth = authorization();
      this.send({ type: "connection_init", payload: auth ? { Authorization: auth } : {} });
    });
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  receive(message) {
    const operation = this.operations.get(message.id);
    switch (message.type) {
      case "connection_ack":
        this.acknowledged = true;
        this.retries = 0;
        this.onState("live", "Live");
        for (const id of this.operations.keys()) this.sendSubscribe(id);
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "next":
        if (!operation) break;
        if (message.payload.errors) operation.error(problemsOf(message.payload.errors));
        if (message.payload.data) operation.next(message.payload.data);
        break;
      case "error":
        this.operations.delete(message.id);
        if (operation) operation.error(problemsOf(message.payload));
        break;
      case "complete":
        this.operations.delete(message.id);
        break;
      default:
        break;
    }
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.acknowledged = false;
    if (event.code === 4403) {
      const reason = event.reason || "the service refused the credentials";
      this.onState("offline", `Not live: UNAUTHENTICATED (${reason})`);
      return;
    }
    const delay = Math.min(10000, 500 * 2 ** this.retries++);
    this.onState("offline", `Offline, retrying in ${Math.round(delay / 1000) || 1} s…`);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  sendSubscribe(id) {
    const operation = this.operations.get(id);
    const payload = { query: operation.query, variables: operation.variables() };
    this.send({ id, type: "subscribe", payload });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }
}
