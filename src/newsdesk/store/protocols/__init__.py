"""What each pipeline stage needs of the store, as ``typing.Protocol``s a fake can implement."""
