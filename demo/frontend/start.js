// The container's entry point: adapter-node's server (build/index.js, which loads instrumentation.server.js
// first) listening on $BIND:$PORT. adapter-node reads HOST and PORT; BIND is the toolkit's name for HOST.
if (process.env.BIND) process.env.HOST = process.env.BIND;
// PID 1 in a container gets no default SIGTERM action; adapter-node closes the server on SIGTERM/SIGINT
await import("./build/index.js");
