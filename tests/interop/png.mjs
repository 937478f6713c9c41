#!/usr/bin/env node
// PNG helpers for the baked-badge checks, independent of microcred.
//
//   node png.mjs make OUT.png [SIZE]   write a plain RGB PNG (SIZE x SIZE,
//                                      default 64) with no text chunks
//   node png.mjs unbake IN.png [OUT.json]
//                                      print (or write) the text of the one
//                                      iTXt chunk with keyword
//                                      `openbadgecredential` (Open Badges 3.0
//                                      baking), byte for byte
//
// unbake reads the chunks itself (signature, lengths, CRC-32 of every chunk),
// and refuses a PNG with no or several `openbadgecredential` chunks, a
// compressed one (OB 3.0 bakes the credential uncompressed), or damage.
import {readFileSync, writeFileSync} from 'node:fs';
import {deflateSync} from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const KEYWORD = 'openbadgecredential';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for(let n = 0; n < 256; n++) {
    let c = n;
    for(let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for(const b of buf) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

export function makePng(size = 64) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for(let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    raw[row] = 0; // filter: none
    for(let x = 0; x < size; x++) {
      const inside = (x - size / 2) ** 2 + (y - size / 2) ** 2 <
        (size / 2.5) ** 2;
      raw.set(inside ? [0x1f, 0x5f, 0xa8] : [0xff, 0xff, 0xff],
        row + 1 + x * 3);
    }
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The chunks of a PNG: [{type, data}], checking lengths and CRCs. */
export function chunks(png) {
  if(png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) {
    throw new Error('not a PNG (bad signature)');
  }
  const out = [];
  let at = 8;
  while(at < png.length) {
    if(at + 12 > png.length) {
      throw new Error(`truncated chunk at byte ${at}`);
    }
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if(at + 12 + len > png.length) {
      throw new Error(`chunk ${type} at byte ${at}: length ${len} runs past ` +
        'the end');
    }
    const data = png.subarray(at + 8, at + 8 + len);
    const crc = png.readUInt32BE(at + 8 + len);
    if(crc32(png.subarray(at + 4, at + 8 + len)) !== crc) {
      throw new Error(`chunk ${type} at byte ${at}: bad CRC`);
    }
    out.push({type, data});
    at += 12 + len;
    if(type === 'IEND') {
      break;
    }
  }
  if(!out.length || out[0].type !== 'IHDR') {
    throw new Error('the first chunk is not IHDR');
  }
  if(out[out.length - 1].type !== 'IEND') {
    throw new Error('no IEND chunk');
  }
  return out;
}

/** The baked credential's text (a string), from the iTXt chunk. */
export function unbake(png) {
  const found = [];
  for(const {type, data} of chunks(png)) {
    if(type !== 'iTXt') {
      continue;
    }
    // keyword \0 compression-flag compression-method language \0
    // translated-keyword \0 text (UTF-8)
    const k = data.indexOf(0);
    if(k < 0 || data.toString('latin1', 0, k) !== KEYWORD) {
      continue;
    }
    const flag = data[k + 1];
    const lang = data.indexOf(0, k + 3);
    const tkey = lang < 0 ? -1 : data.indexOf(0, lang + 1);
    if(tkey < 0) {
      throw new Error('malformed iTXt chunk');
    }
    if(flag !== 0) {
      throw new Error('the openbadgecredential iTXt chunk is compressed');
    }
    const text = data.subarray(tkey + 1);
    const decoded = new TextDecoder('utf-8', {fatal: true}).decode(text);
    found.push(decoded);
  }
  if(found.length !== 1) {
    throw new Error(`${found.length} iTXt chunks with keyword ${KEYWORD} ` +
      '(want exactly one)');
  }
  return found[0];
}

// ---------------------------------------------------------------- CLI
const [cmd, a, b] = process.argv.slice(2);
try {
  if(cmd === 'make' && a) {
    writeFileSync(a, makePng(b ? Number(b) : 64));
  } else if(cmd === 'unbake' && a) {
    const text = unbake(readFileSync(a));
    JSON.parse(text); // must be JSON
    if(b) {
      writeFileSync(b, text);
    } else {
      process.stdout.write(text);
    }
  } else {
    console.error('usage: node png.mjs make OUT.png [SIZE] | ' +
      'unbake IN.png [OUT.json]');
    process.exit(2);
  }
} catch(e) {
  console.error(`png.mjs: ${e.message}`);
  process.exit(1);
}
