//! The generated schema `make bench-migrate` plans and applies: many tables of mixed columns,
//! indexes and foreign keys, the same on every run.

/// xorshift64*: the same workload on every run.
#[derive(Debug)]
pub struct Random(pub u64);

impl Random {
    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}

/// A FoxSchema of `count` tables with 5–15 columns of mixed types, one or two secondary
/// indexes and up to two foreign keys to earlier tables each.
pub fn generated_schema(count: usize, seed: u64) -> String {
    const TYPES: [&str; 10] = [
        "integer",
        "bigint",
        "varchar(100)",
        "text",
        "boolean",
        "\"decimal(12,2)\"",
        "timestamptz",
        "date",
        "uuid",
        "double",
    ];
    let mut random = Random(seed);
    let mut yaml = String::from(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {name: bench}\nspec:\n  databaseRef: {name: bench}\n  tables:\n",
    );
    for t in 0..count {
        yaml.push_str(&format!("    - name: table_{t:03}\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n"));
        let columns = 5 + random.below(11) as usize;
        let mut indexable = Vec::new();
        for c in 1..columns {
            let ty = TYPES[random.below(TYPES.len() as u64) as usize];
            let nullable = random.below(3) == 0;
            yaml.push_str(&format!(
                "        - {{name: c{c:02}, type: {ty}, nullable: {nullable}}}\n"
            ));
            if !matches!(ty, "text" | "boolean") {
                indexable.push(format!("c{c:02}"));
            }
        }
        let references = if t == 0 { 0 } else { random.below(3) };
        for r in 0..references {
            let parent = random.below(t as u64);
            yaml.push_str(&format!(
                "        - {{name: ref_{r}_id, type: bigint, nullable: true, references: {{table: table_{parent:03}, onDelete: set-null}}}}\n"
            ));
        }
        if !indexable.is_empty() {
            yaml.push_str("      indexes:\n");
            let first = &indexable[random.below(indexable.len() as u64) as usize];
            yaml.push_str(&format!("        - {{columns: [{first}]}}\n"));
            if indexable.len() > 1 && random.below(2) == 0 {
                let second = &indexable[random.below(indexable.len() as u64) as usize];
                if second != first {
                    yaml.push_str(&format!("        - {{columns: [{first}, {second}]}}\n"));
                }
            }
        }
    }
    yaml
}
