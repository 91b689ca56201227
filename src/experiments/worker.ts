/**
 * A sweep worker thread: loads the cell evaluator module once, then evaluates the cells the pool
 * sends, one at a time. A throwing evaluator becomes a "failed" record, never a dead worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { failedRecord, type CellEvaluatorModule, type PoolReply, type PoolRequest, type WorkerInit } from './pool.js';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;
const mod = (await import(init.evaluator)) as CellEvaluatorModule;
if (typeof mod.createCellEvaluator !== 'function') throw new Error(`${init.evaluator} does not export createCellEvaluator(spec)`);
const evaluate = await mod.createCellEvaluator(init.spec);

port.on('message', (msg: PoolRequest) => {
  const t0 = performance.now();
  let reply: PoolReply;
  try {
    reply = { id: msg.id, record: evaluate(msg.cell) };
  } catch (e) {
    reply = { id: msg.id, record: failedRecord(msg.cell, e, (performance.now() - t0) / 1000) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies PoolReply);
