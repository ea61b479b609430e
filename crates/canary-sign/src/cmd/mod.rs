//! One module per subcommand: an `Args` struct and a `run`.

pub mod due;
pub mod incident;
pub mod init;
pub mod keygen;
pub mod lint;
pub mod new;
pub mod publish;
pub mod rotate;
pub mod sign;
