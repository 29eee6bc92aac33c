// An rpcbridge worker in Node.js, written only against proto/ (loaded at run time).
//
// It implements rpcbridge.v1.Worker's unary Invoke and ListProcedures (not InvokeStream: the
// sidecar then calls it the unary way), serves grpc.health.v1, and trusts only calls that carry
// the sidecar's proof: the metadata entry `rpcbridge-sidecar-proof` equal to the shared secret
// (RPCBRIDGE_WORKER_SECRET). See docs/conformance.md.
//
//   RPCBRIDGE_WORKER_SECRET=... node worker.js [--listen 127.0.0.1:50061] [--no-secret]
'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { HealthImplementation } = require('grpc-health-check');

const PROTO_DIR = process.env.RPCBRIDGE_PROTO_DIR || path.resolve(__dirname, '..', '..', 'proto');
const PROOF_KEY = 'rpcbridge-sidecar-proof';

// Fault codes of the XML-RPC interoperability list, which JSON-RPC 2.0 reuses.
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

const definition = protoLoader.loadSync('rpcbridge/v1/worker.proto', {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String, // int64 as decimal text: a JavaScript number cannot hold every 64-bit integer
  enums: String,
  bytes: Buffer,
  defaults: false,
  oneofs: true, // sets `kind` / `outcome` to the name of the member that is present
});
const WorkerService = grpc.loadPackageDefinition(definition).rpcbridge.v1.Worker.service;

// ---- rpcbridge.v1.Value <-> JavaScript -------------------------------------------------------
// int64 and big ints become BigInt, doubles Number, bytes Buffer, structs Map (ordered, string
// keys), datetimes WallTime, decimals DecimalText: each Value kind has a JavaScript type of its
// own, so a value goes back out as the kind it came in as.

/** A wall-clock date and time, naive (offset null) or with a UTC offset in seconds. */
class WallTime {
  constructor(seconds, nanos, offset) {
    this.seconds = BigInt(seconds);
    this.nanos = nanos;
    this.offset = offset;
  }
}

/** A decimal number kept as its canonical text ("3.14"), never rounded through a double. */
class DecimalText {
  constructor(text) {
    this.text = text;
  }
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function fromValue(value) {
  switch (value.kind) {
    case undefined:
    case 'null_value':
      return null;
    case 'bool_value':
      return value.bool_value;
    case 'int_value':
      return BigInt(value.int_value);
    case 'big_int_value':
      return BigInt(value.big_int_value);
    case 'double_value':
      return value.double_value;
    case 'string_value':
      return value.string_value;
    case 'bytes_value':
      return Buffer.from(value.bytes_value);
    case 'datetime_value': {
      const d = value.datetime_value;
      const offset = d.utc_offset_seconds === undefined ? null : d.utc_offset_seconds;
      return new WallTime(d.seconds || 0, d.nanos || 0, offset);
    }
    case 'decimal_value':
      return new DecimalText(value.decimal_value);
    case 'list_value':
      return (value.list_value.values || []).map(fromValue);
    case 'struct_value':
      return new Map((value.struct_value.fields || []).map((f) => [f.key, fromValue(f.value || {})]));
    default:
      throw new TypeError(`unknown Value kind ${value.kind}`);
  }
}

function toValue(item) {
  if (item === null || item === undefined) return { null_value: 'NULL_VALUE' };
  if (typeof item === 'boolean') return { bool_value: item };
  if (typeof item === 'bigint') {
    return item >= INT64_MIN && item <= INT64_MAX
      ? { int_value: item.toString() }
      : { big_int_value: item.toString() };
  }
  if (typeof item === 'number') return { double_value: item };
  if (typeof item === 'string') return { string_value: item };
  if (Buffer.isBuffer(item)) return { bytes_value: item };
  if (item instanceof WallTime) {
    const d = { seconds: item.seconds.toString(), nanos: item.nanos };
    if (item.offset !== null) d.utc_offset_seconds = item.offset;
    return { datetime_value: d };
  }
  if (item instanceof DecimalText) return { decimal_value: item.text };
  if (Array.isArray(item)) return { list_value: { values: item.map(toValue) } };
  if (item instanceof Map) {
    const fields = [...item].map(([key, v]) => ({ key: String(key), value: toValue(v) }));
    return { struct_value: { fields } };
  }
  throw new TypeError(`${typeof item} is not a value rpcbridge can carry`);
}

// ---- Procedures --------------------------------------------------------------------------------

/** An application fault: travels inside the reply, with gRPC status OK. */
class Fault extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// name -> { help, params: [{name, type, optional}], returns, run(args, call) }.
// Parameter and return types are XML-RPC type names, as in proto/rpcbridge/v1/worker.proto.
const procedures = new Map();

function procedure(name, help, params, returns, run) {
  procedures.set(name, { help, params, returns, run });
}

const sleep = (ms, call) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    // The caller gave up (deadline or cancel): stop waiting, nobody reads the answer.
    call.on('cancelled', () => {
      clearTimeout(timer);
      resolve();
    });
  });

procedure('echo', 'Return the argument unchanged, keeping its type.', [{ name: 'value', type: '' }], '', ([value]) => value);

procedure(
  'math.add',
  'Add two numbers (integers stay integers).',
  [
    { name: 'a', type: 'int' },
    { name: 'b', type: 'int' },
  ],
  'int',
  ([a, b]) => {
    if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    throw new Fault(INVALID_PARAMS, 'Invalid params');
  },
);

procedure('types.all', 'Return one value of every type XML-RPC can carry.', [], 'struct', () =>
  new Map([
    ['nil', null],
    ['boolean', true],
    ['int', 42n],
    ['i8', 2n ** 40n],
    ['double', 3.5],
    ['string', '  spaced <&> text  '],
    ['base64', Buffer.from([0, 1, ...Buffer.from('binary')])],
    ['dateTime', new WallTime(Date.UTC(2026, 10, 22, 9, 30, 15) / 1000, 0, null)],
    ['array', [1n, 'two', 3.0]],
    ['struct', new Map([['nested', new Map([['empty_struct', new Map()], ['empty_array', []]])]])],
  ]),
);

procedure('types.big', 'Return a big integer and a decimal (JSON carries them; XML-RPC cannot).', [], 'struct', () =>
  new Map([
    ['big', 2n ** 70n],
    ['decimal', new DecimalText('12.340')],
  ]),
);

procedure(
  'fail.fault',
  'Raise an application fault with the given code and message.',
  [
    { name: 'code', type: 'int', optional: true },
    { name: 'message', type: 'string', optional: true },
  ],
  'nil',
  ([code = 4n, message = 'too many parameters']) => {
    throw new Fault(Number(code), String(message));
  },
);

procedure('slow.sleep', 'Sleep, then return the number of seconds slept (for deadlines).', [{ name: 'seconds', type: 'double' }], 'double', async ([seconds], call) => {
  await sleep(Number(seconds) * 1000, call);
  return seconds;
});

// ---- The rpcbridge.v1.Worker service ------------------------------------------------------------

/** Positional arguments for `entry`, from params or named params; a Fault when they do not fit. */
function bindArguments(entry, request) {
  let args;
  if (request.by_name || (request.named_params || []).length > 0) {
    const named = new Map((request.named_params || []).map((f) => [f.key, fromValue(f.value || {})]));
    args = [];
    for (const param of entry.params) {
      if (named.has(param.name)) {
        args.push(named.get(param.name));
        named.delete(param.name);
      } else if (param.optional) {
        args.push(undefined);
      } else {
        throw new Fault(INVALID_PARAMS, 'Invalid params');
      }
    }
    if (named.size > 0) throw new Fault(INVALID_PARAMS, 'Invalid params');
    while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  } else {
    args = (request.params || []).map(fromValue);
  }
  const required = entry.params.filter((p) => !p.optional).length;
  if (args.length < required || args.length > entry.params.length) {
    throw new Fault(INVALID_PARAMS, 'Invalid params');
  }
  return args;
}

function faultResponse(code, message) {
  return { fault: { code, message } };
}

async function runProcedure(request, call) {
  const entry = procedures.get(request.procedure);
  if (entry === undefined) return faultResponse(METHOD_NOT_FOUND, 'Method not found');
  try {
    const result = await entry.run(bindArguments(entry, request), call);
    return { result: toValue(result) };
  } catch (error) {
    if (error instanceof Fault) return faultResponse(error.code, error.message);
    // Anything else is a bug of the procedure: logged here, never sent to the caller.
    console.error(`procedure ${request.procedure} failed:`, error);
    return faultResponse(INTERNAL_ERROR, 'Internal error');
  }
}

/** True when the call carries the sidecar's proof; compared in constant time. */
function hasProof(call, secret) {
  if (secret === '') return true;
  const sent = call.metadata.get(PROOF_KEY).find((v) => typeof v === 'string') || '';
  const digest = (text) => crypto.createHash('sha256').update(text).digest();
  return crypto.timingSafeEqual(digest(sent), digest(secret));
}

const UNAUTHENTICATED = { code: grpc.status.UNAUTHENTICATED, details: 'calls must come through the sidecar' };

function workerImplementation(secret) {
  return {
    Invoke(call, callback) {
      if (!hasProof(call, secret)) return callback(UNAUTHENTICATED);
      runProcedure(call.request, call).then(
        (response) => callback(null, response),
        (error) => callback({ code: grpc.status.INTERNAL, details: String(error) }),
      );
    },
    ListProcedures(call, callback) {
      if (!hasProof(call, secret)) return callback(UNAUTHENTICATED);
      const described = [...procedures].map(([name, entry]) => ({
        name,
        help: entry.help,
        params: entry.params.map((p) => ({ name: p.name, type: p.type, optional: Boolean(p.optional) })),
        returns: entry.returns,
      }));
      callback(null, { procedures: described });
    },
    // InvokeStream is left out on purpose: grpc-js answers UNIMPLEMENTED and the sidecar falls
    // back to unary Invoke.
  };
}

function main() {
  const argv = process.argv.slice(2);
  const listenAt = argv.indexOf('--listen');
  const listen = listenAt >= 0 ? argv[listenAt + 1] : '127.0.0.1:50061';
  const secret = process.env.RPCBRIDGE_WORKER_SECRET || '';
  if (secret === '' && !argv.includes('--no-secret')) {
    console.error('set RPCBRIDGE_WORKER_SECRET (the sidecar\'s worker_secret), or pass --no-secret to trust every caller');
    process.exit(2);
  }
  if (secret === '') console.warn('warning: --no-secret: any process that reaches this port can run procedures');

  const server = new grpc.Server();
  server.addService(WorkerService, workerImplementation(secret));
  const health = new HealthImplementation({ '': 'SERVING', 'rpcbridge.v1.Worker': 'SERVING' });
  health.addToServer(server);
  server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      console.error(`cannot listen on ${listen}: ${error.message}`);
      process.exit(2);
    }
    const host = listen.slice(0, listen.lastIndexOf(':'));
    // One line a supervisor (or a test) can read to learn the kernel-chosen port.
    console.log(`rpcbridge node worker listening on ${host}:${port}`);
  });
  const stop = () => {
    health.setStatus('', 'NOT_SERVING');
    health.setStatus('rpcbridge.v1.Worker', 'NOT_SERVING');
    server.tryShutdown(() => process.exit(0));
    setTimeout(() => server.forceShutdown(), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
