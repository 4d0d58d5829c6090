/** Our DNP3 (IEEE 1815) stack: link, transport and application layers, outstation, master, TCP glue. */
export { crcDnp } from './link/crc.js';
export { encodeFrame, FrameDecoder, LinkPrimary, LinkSecondary, MAX_FRAME_SIZE, MAX_LINK_USER_DATA, type DecodedFrame, type FrameDecoderStats, type LinkFrame } from './link/frame.js';
export { LinkLayer, type LinkLayerOptions, type LinkLayerStats } from './link/link-layer.js';
export { MAX_SEGMENT_PAYLOAD, Reassembler, segment, type ReassemblyStats } from './transport/transport.js';
export { encodeRequest, encodeResponse, parseApdu, single, type Apdu, type AppControl, type ParseResult, type RequestApdu, type ResponseApdu } from './app/apdu.js';
export { CommandStatus, commandStatusName, describeIin, Flags, FunctionCode, IIN1, IIN2, NO_IIN, OpType, TripClose, type Iin } from './app/codes.js';
export { encodeObjects, parseObjects, Qualifier, type BlockSpec, type HeaderRange, type ObjectBlock, type ObjectItem, type ParsedObjects } from './app/headers.js';
export {
  CODECS,
  codecFor,
  crobCode,
  crobParts,
  type AnalogOutputValue,
  type AnalogValue,
  type BinaryValue,
  type BitValue,
  type CounterValue,
  type CrobValue,
  type DelayValue,
  type ObjectCodec,
  type ObjectValue,
  type RawValue,
  type TimeValue,
} from './app/objects.js';
export { KIND_INFO, kindOfGroup, POINT_KINDS, type Measurement, type PointKind } from './points.js';
export { Dnp3Error, isDnp3Error, type Dnp3ErrorReason } from './errors.js';
export { BaseChannel, createChannelPair, tapChannel, type ByteChannel, type ChannelPairOptions, type TapDirection } from './channel/byte-channel.js';
export { TcpClientChannel, type TcpClientOptions, type TcpClientStats } from './channel/tcp-client.js';
export { Dnp3TcpServer, type ChannelDecorator, type TcpServerOptions, type TcpServerStats } from './channel/tcp-server.js';
export { DNP3_DEFAULT_PORT, formatDnp3Url, parseDnp3Url, type Dnp3Target } from './url.js';
export { Session, type SessionOptions, type SessionStats } from './session.js';
export type { DatabaseConfig, EventMode, PointConfig, PointsConfig, PointState, UpdateOptions } from './outstation/database.js';
export type { EventClass } from './outstation/event-buffer.js';
export { Dnp3Outstation, type Command, type CommandHandler, type CommandMode, type OutstationOptions, type OutstationStats, type UnsolicitedOptions } from './outstation/outstation.js';
export { Dnp3Master, type ClassNo, type MasterOptions, type MasterStats, type MeasurementBatch } from './master/master.js';
export type { AnalogOutputCommand, CommandResult, CrobCommand, MasterCommand, TaskResult } from './master/tasks.js';
export type { CommandMode as MasterCommandMode } from './master/tasks.js';
