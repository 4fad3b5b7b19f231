// ocpp_storm.js - a reconnect storm of N charge points with passwords (run by
// bench/ocpp_storm). Phase "cold": all connect (HTTP Basic) and boot, at most
// COLD_WINDOW handshakes at a time; the hub has verified none of their
// passwords yet. Phase "warm": all drop at once, then reconnect and boot, at
// most WARM_WINDOW at a time. A refused handshake (503, 429, a reset) is
// retried after 0.2 to 1 s. Prints one JSON line per phase.
//   node ocpp_storm.js PORT N PREFIX PASSWORD [COLD_WINDOW [WARM_WINDOW]]
'use strict';
const WebSocket = require(process.env.WS_MODULE || 'ws');
const [port, N, prefix, password, WCOLD, WWARM] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4], process.argv[5], Number(process.argv[6] || 1000), Number(process.argv[7] || process.argv[6] || 1000)];
let WINDOW = WCOLD;
const socks = new Array(N);
async function phase(name) {
    let next = 0, done = 0, attempts = 0, inflight = 0;
    const refused = {};
    const t0 = Date.now();
    await new Promise((finish) => {
        const pump = () => { while (inflight < WINDOW && next < N) { inflight++; go(next++); } };
        const go = (i) => {
            attempts++;
            const id = prefix + String(i).padStart(5, '0');
            const ws = new WebSocket('ws://127.0.0.1:' + port + '/ocpp/' + id, ['ocpp1.6'],
                { headers: { Authorization: 'Basic ' + Buffer.from(id + ':' + password).toString('base64') } });
            let settled = false;
            const retry = (why) => {
                if (settled) return;
                settled = true;
                refused[why] = (refused[why] || 0) + 1;
                try { ws.terminate(); } catch (e) { /* gone */ }
                setTimeout(() => go(i), 200 + Math.random() * 800);
            };
            ws.on('unexpected-response', (req, res) => retry(String(res.statusCode)));
            ws.on('error', (e) => retry(e.code || 'error'));
            ws.on('close', () => retry('closed'));
            ws.on('open', () => ws.send(JSON.stringify([2, 'b' + i, 'BootNotification', { chargePointVendor: 'storm', chargePointModel: 'm' }])));
            ws.on('message', () => {
                if (settled) return;
                settled = true;
                socks[i] = ws;
                inflight--;
                done++;
                if (done === N) finish();
                else pump();
            });
        };
        pump();
    });
    const s = (Date.now() - t0) / 1000;
    console.log(JSON.stringify({ phase: name, chargers: N, seconds: s, attempts, refused }));
}
(async () => {
    await phase('cold');
    for (const ws of socks) { ws.removeAllListeners('close'); ws.terminate(); }
    await new Promise((r) => setTimeout(r, 2000));
    WINDOW = WWARM;
    await phase('warm');
    process.exit(0);
})();
