// The docker CLI's `service create`/`update` flags, registered on a commander command.
import { Option, type Command } from 'commander';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Flags shared by create and update (update adds -add/-rm variants in update-options.ts). */
export function addServiceFlags(cmd: Command, mode: 'create' | 'update'): Command {
  const list = (flags: string, desc: string) => cmd.option(flags, desc, collect, []);
  cmd
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .option('--replicas <n>', 'Number of tasks')
    .option('--replicas-max-per-node <n>', 'Maximum number of tasks per node (default 0 = unlimited)')
    .option('--max-concurrent <n>', 'Number of job tasks to run concurrently')
    .option('--hostname <name>', 'Container hostname')
    .option('-u, --user <user>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--entrypoint <cmd>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--stop-grace-period <duration>', 'Time to wait before force killing a container')
    .option('--stop-signal <signal>', 'Signal to stop the container')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--init', 'Use an init inside each service container')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--limit-cpu <cpus>', 'Limit CPUs')
    .option('--limit-memory <bytes>', 'Limit Memory')
    .option('--limit-pids <n>', 'Limit maximum number of processes (default 0 = unlimited)')
    .option('--reserve-cpu <cpus>', 'Reserve CPUs')
    .option('--reserve-memory <bytes>', 'Reserve Memory')
    .option('--restart-condition <cond>', 'Restart when condition is met ("none", "on-failure", "any")')
    .option('--restart-delay <duration>', 'Delay between restart attempts')
    .option('--restart-max-attempts <n>', 'Maximum number of restarts before giving up')
    .option('--restart-window <duration>', 'Window used to evaluate the restart policy')
    .option('--endpoint-mode <mode>', 'Endpoint mode (vip or dnsrr)')
    .option('--health-cmd <cmd>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run')
    .option('--health-retries <n>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
  for (const prefix of ['update', 'rollback'] as const) {
    cmd
      .option(
        `--${prefix}-parallelism <n>`,
        `Maximum number of tasks ${prefix === 'update' ? 'updated' : 'rolled back'} simultaneously`,
      )
      .option(`--${prefix}-delay <duration>`, `Delay between ${prefix}s`)
      .option(`--${prefix}-failure-action <action>`, `Action on ${prefix} failure`)
      .option(`--${prefix}-monitor <duration>`, `Duration after each task ${prefix} to monitor for failure`)
      .option(`--${prefix}-max-failure-ratio <ratio>`, `Failure rate to tolerate during a ${prefix}`)
      .option(
        `--${prefix}-order <order>`,
        `${prefix === 'update' ? 'Update' : 'Rollback'} order ("start-first", "stop-first")`,
      );
  }
  if (mode === 'create') {
    cmd
      .option('--name <name>', 'Service name')
      .addOption(
        new Option('--mode <mode>', 'Service mode')
          .choices(['replicated', 'global', 'replicated-job', 'global-job'])
          .default('replicated'),
      );
    list('-e, --env <env>', 'Set environment variables');
    list('--env-file <file>', 'Read in a file of environment variables');
    list('-l, --label <label>', 'Service labels');
    list('--container-label <label>', 'Container labels');
    list('-p, --publish <port>', 'Publish a port as a node port');
    list('--mount <mount>', 'Attach a filesystem mount to the service');
    list('--constraint <expr>', 'Placement constraints');
    list('--placement-pref <pref>', 'Add a placement preference');
    list('--network <net>', 'Network attachments');
    list('--secret <secret>', 'Specify secrets to expose to the service');
    list('--config <config>', 'Specify configurations to expose to the service');
    list('--group <group>', 'Set one or more supplementary user groups for the container');
    list('--host <host:ip>', 'Set one or more custom host-to-IP mappings');
    list('--dns <ip>', 'Set custom DNS servers');
    list('--dns-search <domain>', 'Set custom DNS search domains');
    list('--dns-option <opt>', 'Set DNS options');
    list('--cap-add <cap>', 'Add Linux capabilities');
    list('--cap-drop <cap>', 'Drop Linux capabilities');
    list('--sysctl <k=v>', 'Sysctl options');
  }
  return cmd;
}

/** commander's camelCased view of the flags above (all optional strings unless noted). */
export interface ServiceFlags {
  detach?: boolean;
  quiet?: boolean;
  name?: string;
  mode?: string;
  replicas?: string;
  replicasMaxPerNode?: string;
  maxConcurrent?: string;
  hostname?: string;
  user?: string;
  workdir?: string;
  entrypoint?: string;
  stopGracePeriod?: string;
  stopSignal?: string;
  readOnly?: boolean;
  init?: boolean;
  tty?: boolean;
  limitCpu?: string;
  limitMemory?: string;
  limitPids?: string;
  reserveCpu?: string;
  reserveMemory?: string;
  restartCondition?: string;
  restartDelay?: string;
  restartMaxAttempts?: string;
  restartWindow?: string;
  endpointMode?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  /** commander sets this false for --no-healthcheck. */
  healthcheck?: boolean;
  [k: string]: unknown;
  env?: string[];
  envFile?: string[];
  label?: string[];
  containerLabel?: string[];
  publish?: string[];
  mount?: string[];
  constraint?: string[];
  placementPref?: string[];
  network?: string[];
  secret?: string[];
  config?: string[];
  group?: string[];
  host?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  capAdd?: string[];
  capDrop?: string[];
  sysctl?: string[];
}
