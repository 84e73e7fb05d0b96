//! The engine alone, at the sizes the issue names.
//!
//! - `build/ml100k-like`: 100,000 ratings, ~940 users, ~1,670 items (EASE);
//! - `build/10k-items-200k-users-2m`: 2,000,000 purchases (sparse conditional probability);
//! - `top10/...`: one top-10 query from memory (with explanations), random users;
//! - `incremental/record`: applying one new purchase to the served model.
//!
//! After criterion, the top-10 latency distribution over 100,000 queries is printed
//! (p50 / p99 / max), since criterion reports means.
//!
//! Run: `cargo bench --bench recommend`.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zhiku::recommend::eval;
use zhiku::recommend::{
    Change, EngineConfig, Explanations, Interaction, LiveRecommender, Model, Signal,
};

/// 2M purchases by 200k users of 10k items: 50 taste clusters, Zipf popularity inside
/// each, 80 % of a user's items from their cluster.
fn large_interactions() -> Vec<Interaction> {
    const USERS: i64 = 200_000;
    const ITEMS: usize = 10_000;
    const CLUSTERS: usize = 50;
    const PER_USER: usize = 10;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let per_cluster = ITEMS / CLUSTERS;
    let cdf: Vec<f64> = (0..per_cluster)
        .scan(0.0, |sum, rank| {
            *sum += 1.0 / (rank as f64 + 3.0);
            Some(*sum)
        })
        .collect();
    let total = *cdf.last().unwrap();
    let mut out = Vec::with_capacity(USERS as usize * PER_USER);
    for user in 0..USERS {
        let home = rng.random_range(0..CLUSTERS);
        for _ in 0..PER_USER {
            let cluster = if rng.random::<f32>() < 0.8 {
                home
            } else {
                rng.random_range(0..CLUSTERS)
            };
            let rank = cdf.partition_point(|&c| c < rng.random::<f64>() * total);
            out.push(Interaction {
                user,
                item: (cluster * per_cluster + rank.min(per_cluster - 1)) as i64,
                signal: Signal::Purchase,
                at: 1_700_000_000 + user,
            });
        }
    }
    out
}

fn ml100k_like() -> Vec<Interaction> {
    let dataset = eval::synthetic(100_000, 42);
    dataset
        .ratings
        .iter()
        .map(|&(user, item, stars, at)| Interaction {
            user: user as i64,
            item: item as i64,
            signal: Signal::Rating(stars),
            at,
        })
        .collect()
}

fn users_of(interactions: &[Interaction]) -> Vec<i64> {
    let mut users: Vec<i64> = interactions.iter().map(|i| i.user).collect();
    users.sort_unstable();
    users.dedup();
    users
}

fn benches(c: &mut Criterion) {
    let config = EngineConfig::default();
    let small = ml100k_like();
    let large = large_interactions();

    let mut build = c.benchmark_group("build");
    build
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    build.bench_function("ml100k-like", |b| {
        b.iter(|| Model::build(&small, 0, &config))
    });
    // All 10,000 items are in the catalogue, bought or not.
    let catalogue: Vec<i64> = (0..10_000).collect();
    build.bench_function("10k-items-200k-users-2m", |b| {
        b.iter(|| Model::build_with_catalogue(&large, &catalogue, 0, &config))
    });
    build.finish();

    let sets: [(&str, &[Interaction], &[i64]); 2] = [
        ("ml100k-like", &small, &[]),
        ("10k-items-200k-users-2m", &large, &catalogue),
    ];
    for (name, interactions, catalogue) in sets {
        let model = Model::build_with_catalogue(interactions, catalogue, 0, &config);
        println!("{name}: {:?}", model.stats());
        let users = users_of(interactions);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        c.bench_function(&format!("top10/{name}"), |b| {
            b.iter(|| {
                let user = users[rng.random_range(0..users.len())];
                model.recommend(
                    model.history(user),
                    10,
                    &|_| true,
                    &|_| false,
                    Explanations::Include,
                )
            })
        });
        let mut latencies: Vec<Duration> = (0..100_000)
            .map(|_| {
                let user = users[rng.random_range(0..users.len())];
                let started = Instant::now();
                std::hint::black_box(model.recommend(
                    model.history(user),
                    10,
                    &|_| true,
                    &|_| false,
                    Explanations::Include,
                ));
                started.elapsed()
            })
            .collect();
        latencies.sort_unstable();
        println!(
            "top10/{name} latency over 100,000 queries: p50 {:?}, p99 {:?}, max {:?}",
            latencies[50_000], latencies[99_000], latencies[99_999]
        );

        let live = LiveRecommender::new(model);
        let mut next_user = 10_000_000i64;
        c.bench_function(&format!("incremental/record/{name}"), |b| {
            b.iter(|| {
                next_user += 1;
                let user = users[(next_user as usize) % users.len()];
                live.record(Change::Record(Interaction {
                    user,
                    item: interactions[next_user as usize % interactions.len()].item,
                    signal: Signal::Purchase,
                    at: 0,
                }))
            })
        });
    }
}

criterion_group!(recommend, benches);

fn main() {
    recommend();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
