/**
 * A bootstrap worker thread (boot-pool.ts): loads the task module once; on each context builds the
 * sample function, then answers sample indices one at a time. A throwing sample becomes an error
 * reply (the pool stops the run with it), never a dead worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { firstLine, type BootReply, type BootRequest, type BootWorkerInit } from './boot-pool.js';

const port = parentPort;
if (!port) throw new Error('boot-worker.ts must run in a worker thread');
const { task } = workerData as BootWorkerInit;
const mod = (await import(task.module)) as Record<string, unknown>;
const factory = mod[task.name];
if (typeof factory !== 'function') throw new Error(`${task.module} does not export a function ${task.name}`);

let sample: (b: number) => unknown = () => {
  throw new Error('no context');
};
port.on('message', (msg: BootRequest) => {
  if ('context' in msg) {
    try {
      sample = (factory as (c: unknown) => (b: number) => unknown)(msg.context);
    } catch (e) {
      // every sample of this context then says why
      sample = () => {
        throw e;
      };
    }
    return;
  }
  let reply: BootReply;
  try {
    reply = { b: msg.b, value: sample(msg.b) };
  } catch (e) {
    reply = { b: msg.b, error: firstLine(e) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies BootReply);
