/**
 * The gRPC adapter: EgodriverService on @grpc/grpc-js. Requests are decoded here with a decoder that names the
 * bad field (gRPC's own says only "Error deserializing request"); every refusal becomes a status code with a
 * message, and nothing a client sends stops the server.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { decodeOrExplain } from './decodeErrors.js';
import { DriverError, type DriverStatus } from './errors.js';
import { DECODE_OPTIONS, loadEgodriverProto, RPCS, SERVICE_NAME, type RpcName } from './proto.js';
import type { EgodriverService } from './service.js';

const STATUS: Record<DriverStatus, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  INTERNAL: grpc.status.INTERNAL,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
};

/** What a request deserialiser hands on when the bytes could not be decoded. */
class Undecodable {
  constructor(readonly message: string) {}
}

export interface ServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  /** Largest request gRPC accepts [bytes] (larger: RESOURCE_EXHAUSTED from gRPC itself). */
  maxReceiveBytes: number;
  logger: Logger;
}

export interface RunningServer {
  /** The bound port. */
  port: number;
  /** Stops accepting calls, waits for the running ones, closes every session. */
  close(): Promise<void>;
}

function handlers(service: EgodriverService): Record<RpcName, (req: never) => unknown> {
  return {
    start_session: (r) => service.startSession(r),
    close_session: (r) => service.closeSession(r),
    submit_image_observation: (r) => service.submitImage(r),
    submit_egomotion_observation: (r) => service.submitEgomotion(r),
    submit_route: (r) => service.submitRoute(r),
    submit_recording_ground_truth: (r) => service.submitGroundTruth(r),
    drive: (r) => service.drive(r),
    get_version: () => service.getVersion(),
  };
}

export async function startDriverServer(service: EgodriverService, o: ServerOptions): Promise<RunningServer> {
  const proto = loadEgodriverProto();
  const base = proto.packageDefinition[SERVICE_NAME] as grpc.ServiceDefinition;
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  const impl = handlers(service);
  const log = o.logger;
  for (const rpc of Object.keys(RPCS) as RpcName[]) {
    const method = base[rpc];
    if (!method) throw new Error(`${SERVICE_NAME}: the .proto has no rpc ${rpc}`);
    const type = proto.root.lookupType(RPCS[rpc]) as protobuf.Type;
    definition[rpc] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decodeOrExplain(type, bytes, (m) => type.toObject(m, DECODE_OPTIONS as protobuf.IConversionOptions));
        } catch (e) {
          return new Undecodable(errorMessage(e));
        }
      },
    };
    implementation[rpc] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const req = call.request;
      if (req instanceof Undecodable) {
        log.warn(`${rpc}: ${req.message}`);
        callback({ code: grpc.status.INVALID_ARGUMENT, details: req.message });
        return;
      }
      let result: Promise<unknown>;
      try {
        result = Promise.resolve(impl[rpc](req as never));
      } catch (e) {
        result = Promise.reject(e);
      }
      result.then(
        (value) => callback(null, value),
        (e: unknown) => {
          if (e instanceof DriverError) {
            log.warn(`${rpc}: ${e.message}`);
            callback({ code: STATUS[e.status], details: e.message });
          } else {
            log.error(`${rpc}: unexpected failure: ${errorMessage(e)}`);
            callback({ code: grpc.status.INTERNAL, details: `${rpc}: ${errorMessage(e)}` });
          }
        },
      );
    };
  }
  // grpc-js writes its own diagnostics to stderr; they go to the driver's log at debug level instead (whatever
  // matters to a caller comes back as a status or as the error below).
  grpc.setLogger({
    error: (...a: unknown[]) => log.debug(`grpc: ${a.join(' ')}`),
    info: () => {},
    debug: () => {},
  } as Partial<Console>);
  grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': o.maxReceiveBytes });
  server.addService(definition as grpc.ServiceDefinition, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(o.listen, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (!err) {
        resolve(p);
        return;
      }
      const m = /EADDRINUSE|EADDRNOTAVAIL|EACCES|ENOTFOUND/.exec(err.message);
      const why = {
        EADDRINUSE: 'address already in use',
        EADDRNOTAVAIL: 'address not available on this machine',
        EACCES: 'permission denied',
        ENOTFOUND: 'host not found',
      };
      reject(new Error(m ? why[m[0] as keyof typeof why] : err.message));
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        await service.closeAll();
      })()),
  };
}
