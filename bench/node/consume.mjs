// One consumer run of the Node benchmark, in its own process and fresh consumer group:
//   node consume.mjs <kafkajs|confluent|hievc> <bootstrap> <topic> <count>
// Reads <count> records from the beginning and prints one line: records/s (first record to
// last), CPU µs per record, peak RSS, and the event loop's delay (p99, max) while reading.
//   kafkajs    kafkajs eachMessage + JSON.parse of the value
//   confluent  @confluentinc/kafka-javascript (its KafkaJS API) eachMessage + JSON.parse
//   hievc      the hie-vc Listener: typed, validated Encounter events into a no-op async handler
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';

const [mode, bootstrap, topic, countText] = process.argv.slice(2);
const count = Number(countText);
const group = `bench-${mode}-${randomUUID()}`;
const lag = monitorEventLoopDelay({ resolution: 1 });
let n = 0;
let t0 = 0;
let cpu0 = null;
let finish;
const done = new Promise((r) => (finish = r));

function seen() {
  if (n === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    lag.enable();
  }
  n += 1;
  if (n === count) {
    lag.disable();
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    finish({ secs, cpuUs: (cpu.user + cpu.system) / count });
  }
}

let stop;
if (mode === 'kafkajs') {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const consumer = new Kafka({ clientId: 'bench', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING }).consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      JSON.parse(message.value.toString('utf8'));
      seen();
    },
  });
  stop = () => consumer.disconnect();
} else if (mode === 'confluent') {
  const { KafkaJS } = (await import('@confluentinc/kafka-javascript')).default;
  const consumer = new KafkaJS.Kafka({ kafkaJS: { brokers: bootstrap.split(','), logLevel: KafkaJS.logLevel.NOTHING } }).consumer({ kafkaJS: { groupId: group, fromBeginning: true } });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachMessage: async ({ message }) => {
      JSON.parse(message.value.toString('utf8'));
      seen();
    },
  });
  stop = () => consumer.disconnect();
} else if (mode === 'hievc') {
  const { Listener } = await import('hie-vc');
  const listener = new Listener({ brokers: bootstrap, topics: [topic], groupId: group, fromBeginning: true, metricsIntervalMs: 0 });
  listener.on('error', (e) => console.error('failed record', e.code, e.message));
  await listener.run({
    eachEncounter: async (event) => {
      if (event.vc == null) throw new Error('not a typed VC event');
      seen();
    },
  });
  stop = () => listener.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}

const r = await done;
const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(`mode=${mode} rate=${Math.round(count / r.secs)} cpu_us=${r.cpuUs.toFixed(1)} rss_mb=${rssMb.toFixed(1)} lag_p99_ms=${(lag.percentile(99) / 1e6).toFixed(1)} lag_max_ms=${(lag.max / 1e6).toFixed(1)}`);
await Promise.race([stop(), new Promise((r) => setTimeout(r, 5000))]);
process.exit(0);
