// TypeORM 0.3 with the `pg` driver: the Node peer of `make bench` (bench/src/peers/ holds the
// Rust ones). The driver starts it as
//
//     node bench/typeorm/bench.js --url postgres://... --warmup 5 --runs 30
//
// on the data bench/src/dataset.rs prepared, and reads one line per workload from standard
// output: `fox-bench<TAB>key<TAB>median in nanoseconds` (bench/src/measurement.rs). The
// workloads, their keys and the work each must report mirror bench/src/workload.rs; queries
// are written the way TypeORM's documentation writes them (repositories, `find` options, the
// query builder for the join).
'use strict';

const { DataSource, EntitySchema, In } = require('typeorm');

// As bench/src/dataset.rs seeds them.
const EAGER_USERS = 100;
const POSTS_PER_USER = 3;
const COMMENTS_PER_POST = 2;
const JOIN_HAIR_COLOR = 'black';
const UPDATE_TARGET = 1000;

const User = new EntitySchema({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'identity' },
    name: { type: 'varchar' },
    hairColor: { name: 'hair_color', type: 'varchar', nullable: true },
  },
  relations: {
    posts: { type: 'one-to-many', target: 'Post', inverseSide: 'user' },
  },
});

const Post = new EntitySchema({
  name: 'Post',
  tableName: 'posts',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'identity' },
    userId: { name: 'user_id', type: 'bigint' },
    title: { type: 'varchar' },
    body: { type: 'text', nullable: true },
  },
  relations: {
    user: {
      type: 'many-to-one',
      target: 'User',
      joinColumn: { name: 'user_id' },
      inverseSide: 'posts',
    },
    comments: { type: 'one-to-many', target: 'Comment', inverseSide: 'post' },
  },
});

const Comment = new EntitySchema({
  name: 'Comment',
  tableName: 'comments',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'identity' },
    postId: { name: 'post_id', type: 'bigint' },
    text: { type: 'varchar' },
  },
  relations: {
    post: {
      type: 'many-to-one',
      target: 'Post',
      joinColumn: { name: 'post_id' },
      inverseSide: 'comments',
    },
  },
});

// The user the delete workload's `run`-th run removes: as bench/src/dataset.rs numbers them,
// below every generated id.
function deletedUserId(run) {
  return -1 - run;
}

function newUsers(n) {
  return Array.from({ length: n }, (_, i) => ({ name: `new ${i}`, hairColor: null }));
}

// Each workload: its key, the work a run must report, one run (given the run's index) and,
// for the delete workload, what it needs in the database before its first of `runs` runs.
function workloads(users) {
  const list = [];
  for (const n of [1, 10, 100, 1000]) {
    list.push({
      key: `select/${n}`,
      expected: n,
      run: async () => (await users.find({ order: { id: 'ASC' }, take: n })).length,
    });
  }
  for (const n of [1, 10, 100, 1000]) {
    list.push({
      key: `join/${n}`,
      expected: n,
      run: async () => {
        const found = await users
          .createQueryBuilder('user')
          .leftJoinAndSelect('user.posts', 'post')
          .where('user.hairColor = :hairColor', { hairColor: JOIN_HAIR_COLOR })
          .orderBy('user.id', 'ASC')
          .addOrderBy('post.id', 'ASC')
          .limit(n)
          .getMany();
        // Rows of the join: a user without posts still makes one.
        return found.reduce((rows, user) => rows + Math.max(1, user.posts.length), 0);
      },
    });
  }
  const userIds = Array.from({ length: EAGER_USERS }, (_, i) => i + 1);
  list.push({
    key: 'eager',
    expected: EAGER_USERS * POSTS_PER_USER * COMMENTS_PER_POST,
    run: async () => {
      const found = await users.find({
        where: { id: In(userIds) },
        relations: { posts: { comments: true } },
      });
      let comments = 0;
      for (const user of found) {
        for (const post of user.posts) comments += post.comments.length;
      }
      return comments;
    },
  });
  for (const n of [1, 100, 1000]) {
    const rows = newUsers(n);
    list.push({
      key: `insert/${n}`,
      expected: n,
      // `insert` writes the generated ids back into the objects it is given: fresh ones
      // per run, as an application creates them per request.
      run: async () => (await users.insert(rows.map((row) => ({ ...row })))).identifiers.length,
    });
  }
  list.push({
    key: 'update',
    expected: 1,
    // Alternating colours, so every run changes the row (as bench/src/dataset.rs).
    run: async (run) =>
      (await users.update({ id: UPDATE_TARGET }, { hairColor: run % 2 === 0 ? 'red' : 'blue' }))
        .affected,
  });
  list.push({
    key: 'delete',
    expected: 1,
    // A user of its own per run, inserted after the reads, right before the first run.
    prepare: async (runs) => {
      const rows = Array.from({ length: runs }, (_, run) => `(${deletedUserId(run)}, 'deleted ${run}')`);
      await users.query(`INSERT INTO users (id, name) VALUES ${rows.join(', ')}`);
    },
    run: async (run) => (await users.delete(deletedUserId(run))).affected,
  });
  return list;
}

function parseArgs(argv) {
  const args = { warmup: 5, runs: 30 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--url') args.url = value;
    else if (flag === '--warmup') args.warmup = Number.parseInt(value, 10);
    else if (flag === '--runs') args.runs = Number.parseInt(value, 10);
    else throw new Error(`unknown flag ${flag} (expected --url, --warmup, --runs)`);
  }
  if (!args.url) throw new Error('--url is required');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dataSource = new DataSource({
    type: 'postgres',
    url: args.url,
    entities: [User, Post, Comment],
    synchronize: false,
    logging: false,
  });
  await dataSource.initialize();
  try {
    for (const workload of workloads(dataSource.getRepository(User))) {
      if (workload.prepare) await workload.prepare(args.warmup + args.runs);
      const samples = [];
      for (let run = 0; run < args.warmup + args.runs; run++) {
        const started = process.hrtime.bigint();
        const count = await workload.run(run);
        const elapsed = process.hrtime.bigint() - started;
        if (count !== workload.expected) {
          throw new Error(`${workload.key} did ${count} rows of work instead of ${workload.expected}`);
        }
        if (run >= args.warmup) samples.push(elapsed);
      }
      samples.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const median = samples[Math.floor(samples.length / 2)];
      process.stdout.write(`fox-bench\t${workload.key}\t${median}\n`);
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(`typeorm peer: ${error.stack || error}`);
  process.exit(1);
});
