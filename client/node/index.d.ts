// Types of podiam's Node test helpers (index.js).
export interface Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
export interface StartOptions {
  binary?: string; args?: string[]; fixtures?: string[]; state?: string;
  decisionLogSize?: number; env?: Record<string, string>; timeoutMs?: number;
}
export interface Account { id: string; rootArn: string; credentials: Credentials; delete(): Promise<unknown> }
export interface DeniedMatch { action?: string; decision?: "explicitDeny" | "implicitDeny" | "denied"; policy?: string; statement?: string | number }
export interface AllowPattern { action?: string; principal?: string; resource?: string; decision?: string }
export class PodiamError extends Error { status?: number; code?: string }
export class Podiam {
  static start(opts?: StartOptions): Promise<Podiam>;
  static connect(endpoint?: string): Promise<Podiam>;
  endpoint: string; region: string; ready: any; log: string;
  readonly tlsEndpoint?: string; readonly proxy?: string; readonly caFile?: string;
  stop(): Promise<void>;
  env(creds?: Partial<Credentials>): Record<string, string>;
  clientConfig(creds?: Credentials, extra?: object): object;
  client<T>(ClientClass: new (config: any) => T, creds?: Credentials, extra?: object): T;
  admin(method: string, path: string, body?: unknown): Promise<any>;
  health(): Promise<any>; reset(): Promise<any>;
  snapshot(name: string): Promise<any>; restore(name: string): Promise<any>;
  deleteSnapshot(name: string): Promise<any>; snapshots(): Promise<any[]>;
  checkpoint(name?: string): Promise<() => Promise<void>>;
  createAccount(id?: string): Promise<Account>; deleteAccount(id: string): Promise<any>;
  advanceClock(ms: number): Promise<any>;
  mark(): Promise<string>; decisions(since: string): Promise<any[]>;
  report(opts?: { since?: string; principal?: string; allowPartial?: boolean }): Promise<any>;
  leastPrivilegePolicy(principal: string, since?: string): Promise<any | null>;
  expectDenied(call: () => Promise<unknown>, match?: DeniedMatch): Promise<{ error: any; decision: any }>;
  assertNoDenials(since: string, allow?: AllowPattern[]): Promise<void>;
}
export function start(opts?: StartOptions): Promise<Podiam>;
export function startMany(n: number, opts?: StartOptions): Promise<Podiam[]>;
export function describe(decision: any): string;
export function findBinary(binary?: string): string;
declare const _default: { Podiam: typeof Podiam; PodiamError: typeof PodiamError; start: typeof start; startMany: typeof startMany; describe: typeof describe; findBinary: typeof findBinary };
export default _default;
