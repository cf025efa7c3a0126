-- totem: the test package torch-autograd's tests use; its Tester is torch.Tester, whose
-- assertions (assertTensorEq with a tolerance, assertTableEq, ...) totem's extend.
require 'torch'
local totem = {Tester = torch.Tester, TestSuite = torch.TestSuite}
package.loaded['totem'] = totem
return totem
