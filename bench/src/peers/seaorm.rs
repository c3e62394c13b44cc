//! SeaORM 2.0 on its own sqlx PostgreSQL pool; entities written by hand as its documentation
//! writes them (`DeriveEntityModel`, relations, `Related`).

use anyhow::Result;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, EntityTrait, LoaderTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{Client, comments_reached, nest};
use crate::dataset::NewUser;

pub(super) mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub(super) mod post {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub body: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::user::Entity",
            from = "Column::UserId",
            to = "super::user::Column::Id"
        )]
        User,
        #[sea_orm(has_many = "super::comment::Entity")]
        Comment,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl Related<super::comment::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Comment.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub(super) mod comment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub post_id: i64,
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::post::Entity",
            from = "Column::PostId",
            to = "super::post::Column::Id"
        )]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub(super) struct SeaOrm {
    database: DatabaseConnection,
}

impl SeaOrm {
    pub(super) async fn connect(url: &str) -> Result<Self> {
        Ok(Self {
            database: sea_orm::Database::connect(url).await?,
        })
    }
}

impl Client for SeaOrm {
    type NewUsers = Vec<user::ActiveModel>;

    fn new_users(&self, users: &[NewUser]) -> Vec<user::ActiveModel> {
        users
            .iter()
            .map(|user| user::ActiveModel {
                name: ActiveValue::Set(user.name.clone()),
                hair_color: ActiveValue::Set(user.hair_color.clone()),
                ..Default::default()
            })
            .collect()
    }

    async fn select_users(&mut self, limit: u64) -> Result<u64> {
        let users = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .limit(limit)
            .all(&self.database)
            .await?;
        Ok(users.len() as u64)
    }

    async fn join_posts(&mut self, hair_color: &str, limit: u64) -> Result<u64> {
        let rows: Vec<(user::Model, Option<post::Model>)> = user::Entity::find()
            .find_also_related(post::Entity)
            .filter(user::Column::HairColor.eq(hair_color))
            .order_by_asc(user::Column::Id)
            .order_by_asc(post::Column::Id)
            .limit(limit)
            .all(&self.database)
            .await?;
        Ok(rows.len() as u64)
    }

    async fn eager_load(&mut self, user_ids: &[i64]) -> Result<u64> {
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(user_ids.iter().copied()))
            .all(&self.database)
            .await?;
        let posts = users.load_many(post::Entity, &self.database).await?;
        let per_user: Vec<usize> = posts.iter().map(Vec::len).collect();
        let posts: Vec<post::Model> = posts.into_iter().flatten().collect();
        let comments = posts.load_many(comment::Entity, &self.database).await?;
        Ok(comments_reached(&nest(users, per_user, posts, comments)))
    }

    async fn insert_users(&mut self, users: &Vec<user::ActiveModel>) -> Result<u64> {
        // SeaORM takes the models by value: the copy is part of its cost.
        Ok(user::Entity::insert_many(users.clone())
            .exec_without_returning(&self.database)
            .await?)
    }

    async fn update_hair_color(&mut self, id: i64, hair_color: &str) -> Result<u64> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::HairColor, Expr::value(hair_color))
            .filter(user::Column::Id.eq(id))
            .exec(&self.database)
            .await?;
        Ok(updated.rows_affected)
    }

    async fn delete_user(&mut self, id: i64) -> Result<u64> {
        let deleted = user::Entity::delete_by_id(id).exec(&self.database).await?;
        Ok(deleted.rows_affected)
    }
}
