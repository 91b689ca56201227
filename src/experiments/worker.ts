/**
 * A sweep worker thread: loads the cell evaluator module once, then evaluates the cells the pool
 * sends, one at a time. A throwing evaluator becomes a "failed" record, never a dead worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { activeFaults, sleepSync } from '../io/fault.js';
import { failedRecord, type CellEvaluatorModule, type PoolReply, type PoolRequest, type WorkerInit } from './pool.js';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;
const mod = (await import(init.evaluator)) as CellEvaluatorModule;
if (typeof mod.createCellEvaluator !== 'function')
  throw new Error(`${init.evaluator} does not export createCellEvaluator(spec)`);
const evaluate = await mod.createCellEvaluator(init.spec);

const faults = activeFaults();

port.on('message', (msg: PoolRequest) => {
  const t0 = performance.now();
  // test-only faults (GMOE_TEST_FAULT, fault.ts): a thread dying mid-cell, outside the evaluator's try
  sleepSync(faults.delayMs);
  const fault = faults.cells.get(`${msg.cell.n}:${msg.cell.rep}`);
  if (fault === 'exit') process.exit(3);
  if (fault === 'crash') throw new Error(`injected crash at n = ${msg.cell.n}, rep = ${msg.cell.rep}`);
  let reply: PoolReply;
  try {
    if (fault === 'throw') throw new Error(`injected error at n = ${msg.cell.n}, rep = ${msg.cell.rep}`);
    reply = { id: msg.id, record: evaluate(msg.cell) };
  } catch (e) {
    reply = { id: msg.id, record: failedRecord(msg.cell, e, (performance.now() - t0) / 1000) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies PoolReply);
