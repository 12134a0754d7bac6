import CEpoll
@testable import RoomstreamServer
import Testing

/// The default number of event loops: the affinity mask capped by a cgroup CPU quota.
@Suite struct CPUBudgetTests {
    @Test(arguments: [
        ("max 100000", nil),
        ("max 100000\n", nil),
        ("100000 100000\n", 1),
        ("150000 100000", 2),
        ("50000 100000", 1),
        ("400000 100000", 4),
        ("", nil),
        ("garbage", nil),
        ("-1 100000", nil),
        ("100000 0", nil),
    ] as [(String, Int?)])
    func cgroupV2CPUMax(_ text: String, _ cores: Int?) {
        #expect(CPUBudget.cores(cpuMax: text) == cores)
    }

    @Test(arguments: [
        ("-1\n", "100000\n", nil),
        ("200000\n", "100000\n", 2),
        ("250000", "100000", 3),
        ("x", "100000", nil),
    ] as [(String, String, Int?)])
    func cgroupV1Quota(_ quota: String, _ period: String, _ cores: Int?) {
        #expect(CPUBudget.cores(quota: quota, period: period) == cores)
    }

    @Test(arguments: [
        (1, 2, nil, 1),  // taskset -c 0 on a 2-core machine
        (8, 8, 2, 2),  // a container limited to 2 CPUs
        (2, 8, 4, 2),
        (-1, 4, nil, 4),  // mask unknown: the online CPUs
        (nil, 4, 3, 3),
        (0, 0, nil, 1),
    ] as [(Int?, Int, Int?, Int)])
    func affinityCappedByQuota(_ affinity: Int?, _ online: Int, _ quota: Int?, _ cores: Int) {
        #expect(CPUBudget.cores(affinity: affinity, online: online, quota: quota) == cores)
    }

    /// On this machine: never more loops than the CPUs the process may run on.
    @Test func theDefaultFollowsThisProcessesAffinity() {
        let affinity = Int(rs_affinity_cpu_count())
        #expect(affinity >= 1)
        #expect(System.coreCount >= 1 && System.coreCount <= affinity)
    }
}
