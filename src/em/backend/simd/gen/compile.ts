/** WAT → WebAssembly binary with wabt (a devDependency: used by the build script and a test only). */
import wabtInit from 'wabt';
import { moduleText } from './kernels.js';

export async function moduleBinary(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('kernels.wat', moduleText(), { simd: true });
  try {
    mod.validate();
    return mod.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    mod.destroy();
  }
}

export async function moduleBase64(): Promise<string> {
  return Buffer.from(await moduleBinary()).toString('base64');
}
