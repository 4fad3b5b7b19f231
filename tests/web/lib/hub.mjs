// A hub and its command line, as the dashboard's test and benchmark drive them: `ecorridor serve`
// on a free port, keys made with `ecorridor keys create`, and the REST API through Node's fetch.

import { spawn } from 'node:child_process';
import fs from 'node:fs';

// Runs the binary to its end; the output is kept whole (the commands used here print little).
export function run(exe, args, { timeoutMs = 120000 } = {}) {
    return new Promise((resolve) => {
        const p = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '', stderr = '';
        p.stdout.on('data', (d) => { stdout += d; });
        p.stderr.on('data', (d) => { stderr += d; });
        const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
        p.on('close', (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

export class Hub {
    // args: everything after `serve` but --listen, which is a free port of the loopback.
    constructor(exe, args, logPath) {
        this.exe = exe;
        this.args = args;
        this.logPath = logPath;
    }

    async start(timeoutMs = 60000) {
        const log = fs.openSync(this.logPath, 'a');
        this.proc = spawn(this.exe, ['serve', '--listen', '127.0.0.1:0', ...this.args],
            { stdio: ['ignore', 'pipe', log] });
        fs.closeSync(log);
        this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r(code === null ? sig : code)));
        // The first line names the port the hub took; a first start builds the corridor's graph.
        const line = await new Promise((resolve, reject) => {
            let buf = '';
            const timer = setTimeout(() => reject(new Error('the hub did not start in time')), timeoutMs);
            this.proc.stdout.on('data', (d) => {
                buf += d;
                if (buf.includes('\n')) {
                    clearTimeout(timer);
                    resolve(buf.split('\n')[0]);
                }
            });
            this.exited.then((c) => {
                clearTimeout(timer);
                reject(new Error(`the hub exited (${c}): ${fs.readFileSync(this.logPath, 'utf8').slice(-2000)}`));
            });
        });
        // The rest of stdout is not read: it is drained so that the hub never blocks on it.
        this.proc.stdout.resume();
        const m = /listening on https?:\/\/([\d.]+):(\d+)\//.exec(line);
        if (!m) throw new Error('the hub did not say where it listens: ' + line);
        this.port = Number(m[2]);
        this.base = `http://127.0.0.1:${this.port}`;
        this.ocpp = `ws://127.0.0.1:${this.port}/ocpp`;
        return this;
    }

    async stop() {
        if (!this.proc || this.proc.exitCode !== null) return this.proc ? this.proc.exitCode : 0;
        this.proc.kill('SIGTERM');
        const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
        const code = await this.exited;
        clearTimeout(timer);
        return code;
    }

    // [status, body]: the body parsed as JSON when it is JSON, else its text.
    async api(method, path, body, key) {
        const headers = {};
        if (key) headers.Authorization = 'Bearer ' + key;
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        const r = await fetch(this.base + path, {
            method, headers, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
        });
        const text = await r.text();
        try {
            return [r.status, JSON.parse(text)];
        } catch (e) {
            return [r.status, text];
        }
    }
}

// A new key: its id (for `keys revoke`) and the key itself, alone on the command's last line.
export async function createKey(exe, db, role, org) {
    const r = await run(exe, ['keys', 'create', '--db', db, '--role', role, '--org', org]);
    if (r.code !== 0) throw new Error('keys create: ' + r.stderr);
    const id = /key (\d+) for/.exec(r.stdout);
    return { id: id ? id[1] : null, key: r.stdout.trim().split('\n').pop().trim() };
}
