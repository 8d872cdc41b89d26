import pytest
import torch

from configs.configurations import DataConfig
from configs.errors import ConfigError
from src.data_loading.dataset_factory import dataset_factory
from src.data_loading.grokking_datasets import ModularArithmeticDataset


def test_split_sizes_are_the_fraction_of_all_pairs():
    train = ModularArithmeticDataset(train=True, p=113)
    test = ModularArithmeticDataset(train=False, p=113)
    assert len(train) == round(0.5 * 113 * 113)
    assert len(train) + len(test) == 113 * 113
    assert train.inputs.shape == (len(train), 4) and train.targets.shape == (len(train),)


def test_splits_are_disjoint_and_complete():
    train = ModularArithmeticDataset(train=True, p=17, train_fraction=0.3, seed=5)
    test = ModularArithmeticDataset(train=False, p=17, train_fraction=0.3, seed=5)
    pairs = lambda ds: {(int(a), int(b)) for a, _, b, _ in ds.inputs}  # noqa: E731
    assert not pairs(train) & pairs(test)
    assert pairs(train) | pairs(test) == {(a, b) for a in range(17) for b in range(17)}


def test_same_seed_same_split_other_seed_other_split():
    a = ModularArithmeticDataset(train=True, p=23, seed=1)
    b = ModularArithmeticDataset(train=True, p=23, seed=1)
    c = ModularArithmeticDataset(train=True, p=23, seed=2)
    assert torch.equal(a.inputs, b.inputs)
    assert not torch.equal(a.inputs, c.inputs)


@pytest.mark.parametrize("operation, expected", [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b)])
def test_tokens_and_targets(operation, expected):
    p = 13
    ds = ModularArithmeticDataset(train=True, p=p, operation=operation)
    for index in range(len(ds)):
        tokens, target = ds[index]
        a, plus, b, equals = tokens.tolist()
        assert plus == p and equals == p + 1 and 0 <= a < p and 0 <= b < p
        assert target.item() == expected(a, b) % p


def test_factory_builds_both_splits_with_one_seed():
    train, test = dataset_factory(DataConfig(p=11, seed=3))
    assert len(train) + len(test) == 121
    assert torch.equal(train.inputs, ModularArithmeticDataset(train=True, p=11, seed=3).inputs)


def test_factory_rejects_unknown_dataset_and_operation():
    with pytest.raises(ConfigError, match=r"data.dataset='mnist'.*modular_arithmetic"):
        dataset_factory(DataConfig(dataset="mnist"))
    with pytest.raises(ConfigError, match=r"data.operation='pow'.*add"):
        dataset_factory(DataConfig(operation="pow"))
