//! Answers: the reference's JSON shapes of what the engine produces
//! (snapshots, command results, requirement failures), built from the
//! engine's plain data.
//!
//! The engine's result and snapshot types carry no serde attributes; each
//! has a response type here that borrows it and spells the reference's field
//! names (`currentPlayerIndex`, `attack:perform`, `type`…). [`Answer`] links
//! an engine type to its response type, and [`Wire`] serializes any engine
//! value in its wire shape, so a server body can hold either.

use serde::{Serialize, Serializer};

mod result;
mod snapshot;

pub use result::{
    AbsorptionAnswer, ActionAnswer, ActionTraceAnswer, AdvanceAnswer, AiActionAnswer, AiTurnAnswer,
    AttackEvaluationAnswer, AttackLogAnswer, CompareDetailsAnswer, DiffItemAnswer,
    FortificationAnswer, LandTraceAnswer, OnDamageAnswer, OutcomeAnswer, PlayerTraceAnswer,
    PowerAnswer, RequirementFailureAnswer, SimulationAnswer, SimulationDeltaAnswer, SkipAnswer,
    SkipSourceAnswer, TargetAnswer,
};
pub use snapshot::{
    ConclusionAnswer, EffectLogsAnswer, EngineMetadataAnswer, GainAnswer, GameAnswer, LandAnswer,
    PassiveRecordAnswer, PassiveSummaryAnswer, PlayerAnswer, RulesAnswer, SnapshotAnswer,
    StatSourceAnswer, StatSourceMetaAnswer, StatSourcesAnswer, gains, passive_records,
};

/// An engine value with a wire shape: `answer` borrows it as its response
/// type.
pub trait Answer {
    /// The response type.
    type Wire<'a>: Serialize
    where
        Self: 'a;

    /// The value in its wire shape.
    fn answer(&self) -> Self::Wire<'_>;
}

/// Serializes an engine value in its wire shape (a body field can say
/// `#[serde(serialize_with = "kb_protocol::answers::serialize")]`).
///
/// # Errors
///
/// The serializer's.
pub fn serialize<T: Answer + ?Sized, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.answer().serialize(serializer)
}

/// An engine value borrowed for serialization in its wire shape.
#[derive(Clone, Copy, Debug)]
pub struct Wire<'a, T: ?Sized>(pub &'a T);

impl<T: Answer + ?Sized> Serialize for Wire<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.answer().serialize(serializer)
    }
}

impl<T: Answer> Answer for [T] {
    type Wire<'a>
        = Vec<T::Wire<'a>>
    where
        T: 'a;

    fn answer(&self) -> Self::Wire<'_> {
        self.iter().map(Answer::answer).collect()
    }
}

impl<T: Answer> Answer for Vec<T> {
    type Wire<'a>
        = Vec<T::Wire<'a>>
    where
        T: 'a;

    fn answer(&self) -> Self::Wire<'_> {
        self.as_slice().answer()
    }
}

impl<T: Answer> Answer for Option<T> {
    type Wire<'a>
        = Option<T::Wire<'a>>
    where
        T: 'a;

    fn answer(&self) -> Self::Wire<'_> {
        self.as_ref().map(Answer::answer)
    }
}

impl<T: Answer + ?Sized> Answer for Box<T> {
    type Wire<'a>
        = T::Wire<'a>
    where
        T: 'a;

    fn answer(&self) -> Self::Wire<'_> {
        (**self).answer()
    }
}

impl<T: Answer + ?Sized> Answer for &T {
    type Wire<'a>
        = T::Wire<'a>
    where
        Self: 'a;

    fn answer(&self) -> Self::Wire<'_> {
        (**self).answer()
    }
}

/// Implements [`Answer`] for engine types whose response type is built
/// with `From<&E>`.
macro_rules! answers {
    ($($engine:ty => $wire:ident),* $(,)?) => {
        $(
            impl crate::answers::Answer for $engine {
                type Wire<'a> = $wire<'a>;

                fn answer(&self) -> $wire<'_> {
                    $wire::from(self)
                }
            }
        )*
    };
}
pub(crate) use answers;
