// Fails (exit 1) when DATABASE_URL or REDIS_URL is set but unreachable, so CI cannot silently skip those suites.
import net from 'node:net';

function probe(name, urlString, defaultPort) {
  if (!urlString) {
    console.log(`${name}: not set (suites that need it will skip with a message)`);
    return Promise.resolve(true);
  }
  const url = new URL(urlString);
  const port = Number(url.port || defaultPort);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port, timeout: 3000 });
    socket.once('connect', () => {
      console.log(`${name}: reachable at ${url.hostname}:${port}`);
      socket.end();
      resolve(true);
    });
    const fail = (why) => {
      console.error(`${name}: UNREACHABLE at ${url.hostname}:${port} (${why})`);
      socket.destroy();
      resolve(false);
    };
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (e) => fail(e.code ?? e.message));
  });
}

const ok = (await Promise.all([probe('DATABASE_URL', process.env.DATABASE_URL, 5432), probe('REDIS_URL', process.env.REDIS_URL, 6379)])).every(Boolean);
process.exit(ok ? 0 : 1);
