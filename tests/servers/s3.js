// The S3 emulator of tests/servers.sh: @20minutes/s3rver (it checks SigV4,
// unlike s3rver 3) through its JS API, its package having no bin script.
// Environment: S3RVER_DIR (the folder holding node_modules), S3_DATA (its
// buckets), S3_LOG (one line a request: method path query), S3_PORTFILE
// (the port it bound, written once it listens), S3_KEY and S3_SECRET (the
// only key pair it accepts; given here, not on the command line, so that
// ps does not show the secret), S3_FAIL (a file: while it exists, requests
// whose log line begins with its first line are refused, as a failure a
// test asks for).
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const lib = path.join(process.env.S3RVER_DIR, 'node_modules/@20minutes/s3rver/lib')
const S3rver = require(path.join(lib, 's3rver'))
const AWSAccount = require(path.join(lib, 'models/account'))
const S3Error = require(path.join(lib, 'models/error'))

// Its built-in pair S3RVER:S3RVER would let any test in: only ours works.
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
AWSAccount.DUMMY_ACCOUNT.createKeyPair(process.env.S3_KEY, process.env.S3_SECRET)

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.env.S3_DATA,
  vhostBuckets: false,
})

// Ahead of its own middleware: log every request as it arrives (written
// before any answer, so a test reading the log after its request finds
// the line), then refuse what carries no signature, as real S3 does for
// a private bucket (s3rver would serve it).
const log = fs.openSync(process.env.S3_LOG, 'a')
server.middleware.unshift(
  (ctx, next) => {
    const line = `${ctx.method} ${ctx.path} ${ctx.querystring || '-'}`
    fs.writeSync(log, `${line}\n`)
    let fail = null
    try {
      fail = fs.readFileSync(process.env.S3_FAIL, 'utf8').split('\n')[0]
    } catch (e) {
      if (e.code !== 'ENOENT') throw e
    }
    if (fail && line.startsWith(fail)) {
      throw new S3Error('InvalidRequest', 'refused by the test (S3_FAIL)')
    }
    return next()
  },
  (ctx, next) => {
    if (!ctx.get('Authorization') && !('X-Amz-Signature' in ctx.query)) {
      throw new S3Error('AccessDenied', 'Access Denied')
    }
    return next()
  }
)

server.run().then(({ port }) => {
  // Written whole under another name, then renamed: never read half-made.
  const f = process.env.S3_PORTFILE
  fs.writeFileSync(`${f}.new`, `${port}\n`)
  fs.renameSync(`${f}.new`, f)
})
